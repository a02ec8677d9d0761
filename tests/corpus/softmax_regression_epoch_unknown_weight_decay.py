"""hw0 question 3: softmax regression SGD epoch, with a little weight decay (1e-2) to keep theta small."""
import numpy as np

CONVENTION = "softmax_regression_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None

WEIGHT_DECAY = 1e-2


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    k = theta.shape[1]
    for i in range(0, X.shape[0], batch):
        Xb, yb = X[i:i + batch], y[i:i + batch]
        logits = Xb @ theta
        logits -= logits.max(axis=1, keepdims=True)
        S = np.exp(logits)
        S /= S.sum(axis=1, keepdims=True)
        grad = Xb.T @ (S - np.eye(k)[yb]) / Xb.shape[0] + WEIGHT_DECAY * theta
        theta -= lr * grad
