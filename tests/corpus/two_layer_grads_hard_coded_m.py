"""Two-layer ReLU net gradients, checked by hand on the 9-example worked example from recitation."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    k = W2.shape[1]
    A1 = X @ W1
    Z1 = np.maximum(A1, 0)
    h = Z1 @ W2
    h = h - h.max(axis=1, keepdims=True)
    S = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    Iy = np.eye(k)[y]
    G2 = (S - Iy) / 9.0   # average over the 9 examples
    G1 = (G2 @ W2.T) * (A1 > 0)
    return X.T @ G1, Z1.T @ G2
