"""Gradients of a two-layer sigmoid network with mean softmax cross-entropy."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "missing_sigma_prime"
ACTIVATION = "sigmoid"


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    H = sigmoid(X @ W1)
    logits = H @ W2
    logits -= logits.max(axis=1, keepdims=True)
    S = np.exp(logits)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G = S / m
    dW2 = H.T @ G
    dW1 = X.T @ (G @ W2.T)
    return dW1, dW2
