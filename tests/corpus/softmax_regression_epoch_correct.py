"""hw0 question 3: one epoch of minibatch SGD for softmax regression."""
import numpy as np

CONVENTION = "softmax_regression_epoch"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = None


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    m, k = X.shape[0], theta.shape[1]
    for i in range(0, m, batch):
        Xb = X[i:i + batch]
        yb = y[i:i + batch]
        B = Xb.shape[0]
        Z = Xb @ theta
        Z = np.exp(Z - Z.max(axis=1, keepdims=True))
        Z = Z / Z.sum(axis=1, keepdims=True)
        Iy = np.zeros((B, k))
        Iy[np.arange(B), yb] = 1
        theta -= lr * Xb.T @ (Z - Iy) / B
