"""Two-layer ReLU network gradients, softmax computed through a log-sum-exp."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "relu"


def log_softmax(Z):
    c = Z.max(axis=1, keepdims=True)
    return Z - c - np.log(np.exp(Z - c).sum(axis=1, keepdims=True))


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    A1 = X @ W1
    Z1 = np.maximum(A1, 0)
    S = np.exp(log_softmax(Z1 @ W2))
    S[np.arange(m), y] -= 1
    G2 = S / m
    return X.T @ ((G2 @ W2.T) * (A1 > 0)), Z1.T @ G2
