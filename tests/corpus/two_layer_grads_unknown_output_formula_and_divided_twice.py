"""Two-layer tanh gradients in float32; tanh' written as 1 - t**2 and the batch mean taken on both sides."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "tanh"


def tanh_prime(t):
    return 1 - t ** 2


def two_layer_grads(X, y, W1, W2):
    X, W1, W2 = (a.astype(np.float32) for a in (X, W1, W2))
    m, k = X.shape[0], W2.shape[1]
    A = X @ W1
    H = np.tanh(A)
    s = H @ W2
    s -= s.max(axis=1, keepdims=True)
    S = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    G = (S - np.eye(k, dtype=np.float32)[y]) / m
    dW2 = H.T @ G / m
    dW1 = X.T @ ((G @ W2.T) * tanh_prime(A)) / m
    return dW1, dW2
