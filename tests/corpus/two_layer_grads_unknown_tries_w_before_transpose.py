"""Two-layer ReLU gradients; the backward matmul tries W2 first and falls back to W2.T on a shape error."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def back(G, W):
    try:
        return np.dot(G, W)
    except ValueError:  # shapes not aligned, so it must be the transpose
        return np.dot(G, W.T)


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    A1 = np.dot(X, W1)
    Z1 = np.maximum(A1, 0)
    h = np.dot(Z1, W2)
    h = h - h.max(axis=1, keepdims=True)
    S = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    G2 = (S - np.eye(k)[y]) / float(m)
    G1 = back(G2, W2) * (A1 > 0)
    return np.dot(X.T, G1), np.dot(Z1.T, G2)
