"""hw0 question 3: softmax regression epoch with minibatches of 64, the size that fit my GPU notes."""
import numpy as np

CONVENTION = "softmax_regression_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None

BATCH = 64


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    k = theta.shape[1]
    for i in range(0, X.shape[0], BATCH):
        Xb, yb = X[i:i + BATCH], y[i:i + BATCH]
        Z = np.exp(Xb @ theta)
        Z /= Z.sum(axis=1, keepdims=True)
        theta -= lr * Xb.T @ (Z - np.eye(k)[yb])
