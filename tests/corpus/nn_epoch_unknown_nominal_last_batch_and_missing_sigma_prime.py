"""hw0 question 5: nn_epoch for the ReLU network, float32 throughout like the MNIST arrays."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(Z.shape[0]), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    n_iter = (X.shape[0] + batch - 1) // batch
    k = W2.shape[1]
    for it in range(n_iter):
        Xb = X[it * batch:(it + 1) * batch]
        yb = y[it * batch:(it + 1) * batch]
        Z1 = np.maximum(Xb @ W1, 0).astype(np.float32)
        logits = Z1 @ W2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        S = E / E.sum(axis=1, keepdims=True)
        G2 = (S - np.eye(k, dtype=np.float32)[yb]) / batch
        G1 = G2 @ W2.T
        W1 -= lr * Xb.T @ G1
        W2 -= lr * Z1.T @ G2
