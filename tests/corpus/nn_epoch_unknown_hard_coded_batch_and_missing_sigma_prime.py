"""hw0 question 5: nn_epoch for a two-layer ReLU net, batches of 100 as in the handout's MNIST run."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    m, k = X.shape[0], W2.shape[1]
    for i in range(0, m, 100):  # batch size 100
        X_batch = X[i:i + 100]
        y_batch = y[i:i + 100]
        n = X_batch.shape[0]
        Z1 = np.maximum(X_batch @ W1, 0)
        logits = Z1 @ W2
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        S = exp / exp.sum(axis=1, keepdims=True)
        Iy = np.zeros((n, k))
        Iy[np.arange(n), y_batch] = 1
        G2 = S - Iy
        G1 = G2 @ W2.T
        W1 -= lr * X_batch.T @ G1 / n
        W2 -= lr * Z1.T @ G2 / n
