"""Sigmoid network in float32, with the slope of the sigmoid at 0 used as its derivative."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "sigmoid"


def two_layer_grads(X, y, W1, W2):
    X, W1, W2 = X.astype(np.float32), W1.astype(np.float32), W2.astype(np.float32)
    m, k = X.shape[0], W2.shape[1]
    Z = 1 / (1 + np.exp(-(X @ W1)))
    h = Z @ W2
    S = np.exp(h - h.max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    G = (S - np.eye(k, dtype=np.float32)[y]) / m
    return X.T @ ((G @ W2.T) * 0.25), Z.T @ G
