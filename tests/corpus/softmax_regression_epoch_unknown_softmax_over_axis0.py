"""hw0 question 3: softmax regression epoch, normalising exp(X theta) with np.sum(..., axis=0)."""
import numpy as np

CONVENTION = "softmax_regression_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    m, k = X.shape[0], theta.shape[1]
    for i in range(0, m, batch):
        Xb = X[i:i + batch]
        yb = y[i:i + batch]
        B = Xb.shape[0]
        E = np.exp(Xb @ theta)
        Z = E / np.sum(E, axis=0)
        Iy = np.zeros((B, k))
        Iy[np.arange(B), yb] = 1
        theta -= lr * Xb.T @ (Z - Iy) / B
