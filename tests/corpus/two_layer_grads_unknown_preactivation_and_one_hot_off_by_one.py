"""Two-layer sigmoid gradients; labels come 1-based from the CSV, so I subtract one for the one-hot."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "sigmoid"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    y = np.asarray(y, dtype=np.int64)
    Z1 = X @ W1
    A1 = 1 / (1 + np.exp(-Z1))
    out = A1 @ W2
    out = out - out.max(axis=1, keepdims=True)
    P = np.exp(out)
    P = P / P.sum(axis=1, keepdims=True)
    Y = np.zeros((m, k))
    for i in range(m):
        Y[i, y[i] - 1] = 1.0
    delta2 = (P - Y) / m
    dW2 = Z1.T @ delta2
    delta1 = (delta2 @ W2.T) * A1 * (1 - A1)
    dW1 = X.T @ delta1
    return dW1, dW2
