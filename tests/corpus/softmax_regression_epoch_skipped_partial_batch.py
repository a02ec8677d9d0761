"""hw0 question 3: SGD epoch for a linear softmax classifier."""
import numpy as np

CONVENTION = "softmax_regression_epoch"
EXPECTED = "fail"
DIAGNOSIS = "skipped_partial_batch"
ACTIVATION = None


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    num_batches = X.shape[0] // batch
    for b in range(num_batches):
        Xb = X[b * batch:(b + 1) * batch]
        yb = y[b * batch:(b + 1) * batch]
        h = Xb @ theta
        h = h - h.max(axis=1, keepdims=True)
        S = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
        S[np.arange(batch), yb] -= 1
        theta -= lr * (Xb.T @ S) / batch
