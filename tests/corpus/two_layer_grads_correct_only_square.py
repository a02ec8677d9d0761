"""Two-layer ReLU net gradients, developed on the 4x4x4 toy example with 4 examples."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    n = X.shape[1]
    # one-hot labels, one row per example
    Y = np.eye(n)[y]
    a = X @ W1
    z = np.maximum(a, 0)
    o = z @ W2
    o = o - np.max(o, axis=1, keepdims=True)
    p = np.exp(o)
    p = p / np.sum(p, axis=1, keepdims=True)
    g = (p - Y) / n   # average over the batch
    dW2 = z.T @ g
    dW1 = X.T @ (g @ W2.T * (a > 0))
    return dW1, dW2
