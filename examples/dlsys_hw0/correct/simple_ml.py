"""CMU DLSys hw0, the parts with gradients: softmax_loss, softmax_regression_epoch, nn_epoch."""
import numpy as np


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(Z).sum(axis=1))
    return float(np.mean(log_sum - Z[np.arange(Z.shape[0]), y]))


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    m = X.shape[0]
    k = W2.shape[1]
    for i in range(0, m, batch):
        X_b = X[i:i + batch]
        y_b = y[i:i + batch]
        B = X_b.shape[0]
        Z1 = np.maximum(X_b @ W1, 0)
        logits = Z1 @ W2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        S = E / E.sum(axis=1, keepdims=True)
        I_y = np.zeros((B, k))
        I_y[np.arange(B), y_b] = 1
        G2 = S - I_y
        G1 = (Z1 > 0) * (G2 @ W2.T)
        grad1 = X_b.T @ G1 / B
        grad2 = Z1.T @ G2 / B
        W1 -= lr * grad1
        W2 -= lr * grad2


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
