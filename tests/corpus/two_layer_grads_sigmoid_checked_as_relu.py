"""Two-layer network from the sigmoid variant of the worksheet, checked as the ReLU assignment."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "other_activation"
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    Z = 1 / (1 + np.exp(-(X @ W1)))
    h = Z @ W2
    S = np.exp(h - h.max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / m
    return X.T @ ((G @ W2.T) * Z * (1 - Z)), Z.T @ G
