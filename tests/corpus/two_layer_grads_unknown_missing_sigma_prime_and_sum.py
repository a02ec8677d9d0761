"""Two-layer tanh network gradients (Eqs. 10 and 11) for the softmax loss."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "tanh"


def two_layer_grads(X, y, W1, W2):
    k = W2.shape[1]
    Z1 = np.tanh(X @ W1)
    h = Z1 @ W2
    e = np.exp(h - h.max(axis=1, keepdims=True))
    S = e / e.sum(axis=1, keepdims=True)
    G2 = S - np.eye(k)[y]  # dL/dh
    G1 = G2 @ W2.T
    return X.T @ G1, Z1.T @ G2
