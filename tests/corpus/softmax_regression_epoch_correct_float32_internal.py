"""hw0 Q3: softmax regression epoch computed in float32, written back into the float64 theta."""
import numpy as np

CONVENTION = "softmax_regression_epoch"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = None


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    X32 = X.astype(np.float32)  # convert the data once
    m = X32.shape[0]
    for start in range(0, m, batch):
        xb = X32[start:start + batch]
        yb = y[start:start + batch]
        th = theta.astype(np.float32)  # current weights, in single precision
        logits = xb @ th
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        I = np.zeros_like(p)
        I[np.arange(xb.shape[0]), yb] = 1.
        g = xb.T @ (p - I) / np.float32(xb.shape[0])
        theta -= lr * g
