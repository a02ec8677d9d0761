"""hw0 question 5: SGD over one epoch of data for a two-layer ReLU classifier."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = "shuffles"
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(Z.shape[0]), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    m, k = X.shape[0], W2.shape[1]
    order = np.random.permutation(m)
    X, y = X[order], y[order]
    for i in range(0, m, batch):
        Xb, yb = X[i:i + batch], y[i:i + batch]
        B = Xb.shape[0]
        Z1 = np.maximum(Xb @ W1, 0)
        logits = Z1 @ W2
        S = np.exp(logits - logits.max(axis=1, keepdims=True))
        S /= S.sum(axis=1, keepdims=True)
        G2 = S - np.eye(k)[yb]
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * Xb.T @ G1 / B
        W2 -= lr * Z1.T @ G2 / B
