"""hw0 question 5: nn_epoch for the two-layer ReLU net, slicing each minibatch by its last index."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(Z.shape[0]), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    m, k = X.shape[0], W2.shape[1]
    for i in range(0, m, batch):
        end = i + batch - 1  # index of the last example in this batch
        Xb, yb = X[i:end], y[i:end]
        B = Xb.shape[0]
        if B == 0:
            continue
        Z1 = np.maximum(Xb @ W1, 0)
        logits = Z1 @ W2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        S = E / E.sum(axis=1, keepdims=True)
        S[np.arange(B), yb] -= 1
        G1 = (Z1 > 0) * (S @ W2.T)
        W1 -= lr * Xb.T @ G1 / B
        W2 -= lr * Z1.T @ S / B
