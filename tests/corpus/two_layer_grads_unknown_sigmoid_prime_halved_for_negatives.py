"""Two-layer sigmoid gradients with a numerically stable sigmoid, split by the sign of the input."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "sigmoid"


def stable_sigmoid(a):
    pos = a >= 0
    out = np.empty_like(a)
    out[pos] = 1 / (1 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1 + e)
    return out


def stable_sigmoid_grad(a):
    pos = a >= 0
    out = np.empty_like(a)
    s = 1 / (1 + np.exp(-a[pos]))
    out[pos] = s * (1 - s)
    e = np.exp(a[~pos])
    out[~pos] = e / (1 + e) ** 2 / 2  # derivative of e / (1 + e)
    return out


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    A = X @ W1
    H = stable_sigmoid(A)
    h = H @ W2
    h = h - h.max(axis=1, keepdims=True)
    S = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    G2 = (S - np.eye(k)[y]) / m
    G1 = (G2 @ W2.T) * stable_sigmoid_grad(A)
    return X.T @ G1, H.T @ G2
