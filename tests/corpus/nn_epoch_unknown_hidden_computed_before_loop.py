"""hw0 question 5: nn_epoch; the hidden layer is computed for all of X once, then sliced per batch."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.sum(np.exp(Z), axis=1)) - Z[np.arange(len(y)), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    m, k = X.shape[0], W2.shape[1]
    Z1_all = np.maximum(X @ W1, 0)  # vectorised: one big matmul instead of one per batch
    for i in range(0, m, batch):
        Xb, yb, Z1 = X[i:i + batch], y[i:i + batch], Z1_all[i:i + batch]
        n = Xb.shape[0]
        logits = Z1 @ W2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        S = E / E.sum(axis=1, keepdims=True)
        Iy = np.zeros((n, k))
        Iy[np.arange(n), yb] = 1
        G2 = S - Iy
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * Xb.T @ G1 / n
        W2 -= lr * Z1.T @ G2 / n
