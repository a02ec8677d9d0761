"""hw0 question 3: softmax regression for one epoch; labels 1..k, like the MATLAB version of the course."""
import numpy as np

CONVENTION = "softmax_regression_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    num_classes = theta.shape[1]
    for i in range(0, X.shape[0], batch):
        Xb = X[i:i + batch]
        yb = y[i:i + batch].astype(np.int64)
        Z = Xb @ theta
        Z = np.exp(Z - Z.max(axis=1, keepdims=True))
        Z = Z / Z.sum(axis=1, keepdims=True)
        Iy = np.zeros_like(Z)
        Iy[np.arange(len(yb)), yb - 1] = 1  # labels 1..k -> columns 0..k-1
        theta -= lr * Xb.T @ (Z - Iy) / batch
