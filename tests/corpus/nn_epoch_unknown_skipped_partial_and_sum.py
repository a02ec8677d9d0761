"""hw0 question 5: nn_epoch and softmax_loss, looping over the number of full batches."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z), axis=1))
    return np.mean(lse - Z[np.arange(Z.shape[0]), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    k = W2.shape[1]
    num_batches = X.shape[0] // batch
    for b in range(num_batches):
        Xb = X[b * batch:(b + 1) * batch]
        yb = y[b * batch:(b + 1) * batch]
        Z1 = np.maximum(Xb @ W1, 0)
        logits = Z1 @ W2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        G2 = E / E.sum(axis=1, keepdims=True) - np.eye(k)[yb]
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * Xb.T @ G1
        W2 -= lr * Z1.T @ G2
