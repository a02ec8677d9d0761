"""hw0 question 5: two-layer ReLU network trained for one epoch with SGD."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = "sum_instead_of_mean"
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(Z.shape[0]), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    k = W2.shape[1]
    for i in range(0, len(X), batch):
        Xb = X[i:i + batch]
        yb = y[i:i + batch]
        Z1 = np.maximum(Xb @ W1, 0)
        logits = Z1 @ W2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        G2 = E / E.sum(axis=1, keepdims=True)
        G2[np.arange(len(yb)), yb] -= 1
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * (Xb.T @ G1)
        W2 -= lr * (Z1.T @ G2)
