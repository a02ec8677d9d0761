"""CMU DLSys hw0, the parts with gradients: softmax_loss, softmax_regression_epoch, nn_epoch."""
import numpy as np


def relu(x):
    return np.maximum(x, 0)


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(Z.shape[0]), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    for i in range(0, X.shape[0], batch):
        Xb, yb = X[i:i + batch], y[i:i + batch]
        B = Xb.shape[0]
        Z1 = relu(Xb @ W1)
        E = np.exp(Z1 @ W2 - (Z1 @ W2).max(axis=1, keepdims=True))
        G2 = E / E.sum(axis=1, keepdims=True)
        G2[np.arange(B), yb] -= 1
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * Xb.T @ G1 / B
        W2 -= lr * relu(Xb @ W1).T @ G2 / B


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
