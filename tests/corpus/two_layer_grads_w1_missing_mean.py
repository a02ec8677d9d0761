"""Two-layer ReLU gradients: the mean is taken on the output layer's gradient only."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "scaled_gradient"
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    A = X @ W1
    Z = np.maximum(A, 0)
    h = Z @ W2
    S = np.exp(h - h.max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    G = S - np.eye(k)[y]
    dW2 = Z.T @ G / m
    dW1 = X.T @ ((G @ W2.T) * (A > 0))     # forgot / m here
    return dW1, dW2
