"""Two-layer sigmoid net gradients for MNIST, whose labels arrive as uint8."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "sigmoid"


def two_layer_grads(X, y, W1, W2):
    labels = np.asarray(y).astype(np.int64)
    m, k = X.shape[0], W2.shape[1]
    A = X @ W1
    H = 1.0 / (1.0 + np.exp(-A))
    Z = H @ W2
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    P.flat[np.arange(m) * k + labels] -= 1.0
    P /= m
    dW2 = H.T @ P
    dW1 = X.T @ ((P @ W2.T) * H * (1.0 - H))
    return dW1, dW2
