"""Backprop for h = relu(X W1) W2 with softmax cross-entropy averaged over examples."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "swapped_outputs"
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    A = X @ W1
    H = np.maximum(A, 0)
    Z = H @ W2
    Z = Z - Z.max(axis=1, keepdims=True)
    S = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    G2 = (S - np.eye(k)[y]) / m
    dW2 = H.T @ G2
    dW1 = X.T @ ((G2 @ W2.T) * (A > 0))
    return dW2, dW1
