"""Two-layer ReLU gradients (weights first, like my other homework functions)."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "argument_order"
ACTIVATION = "relu"


def two_layer_grads(W1, W2, X, y):
    m, k = X.shape[0], W2.shape[1]
    A = np.dot(X, W1)
    Z = np.maximum(A, 0)
    h = np.dot(Z, W2)
    S = np.exp(h - h.max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / m
    return np.dot(X.T, np.dot(G, W2.T) * (A > 0)), np.dot(Z.T, G)
