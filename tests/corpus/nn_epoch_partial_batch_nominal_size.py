"""hw0 question 5: SGD epoch; each minibatch's gradient is averaged over batch."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = "partial_batch_nominal_size"
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    k = W2.shape[1]
    for start in range(0, X.shape[0], batch):
        xb, yb = X[start:start + batch], y[start:start + batch]
        Z1 = np.maximum(xb @ W1, 0)
        E = np.exp(Z1 @ W2)
        S = E / E.sum(axis=1, keepdims=True)
        S[np.arange(len(yb)), yb] -= 1
        G2 = S / batch                      # the last batch may be smaller than batch
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * xb.T @ G1
        W2 -= lr * Z1.T @ G2
