"""hw0 Q3: softmax regression SGD epoch, normalising exp(X theta) directly (no max shift)."""
import numpy as np

CONVENTION = "softmax_regression_epoch"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = None


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    num_batches = int(np.ceil(X.shape[0] / float(batch)))
    for b in range(num_batches):
        Xb = X[b * batch:(b + 1) * batch]
        yb = y[b * batch:(b + 1) * batch]
        expz = np.exp(Xb.dot(theta))
        Z = expz / expz.sum(axis=1)[:, None]
        Z[np.arange(len(yb)), yb] -= 1   # Z - I_y
        theta -= lr * Xb.T.dot(Z) / len(yb)   # len(yb), not batch: last batch may be short
