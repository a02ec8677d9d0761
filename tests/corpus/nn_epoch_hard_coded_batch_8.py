"""hw0 question 5: minibatch SGD, batches of 8 like in lecture."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = "hard_coded_batch_size"
ACTIVATION = "relu"
BATCH = 8


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    k = W2.shape[1]
    for i in range(0, len(X), BATCH):
        xb, yb = X[i:i + BATCH], y[i:i + BATCH]
        n = len(xb)
        Z1 = np.maximum(xb @ W1, 0)
        h = Z1 @ W2
        S = np.exp(h - h.max(1, keepdims=True))
        S = S / S.sum(1, keepdims=True)
        S[np.arange(n), yb] -= 1
        G2 = S / n
        W1 -= lr * xb.T @ ((G2 @ W2.T) * (Z1 > 0))
        W2 -= lr * Z1.T @ G2
