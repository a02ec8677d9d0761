"""hw0 question 5: one SGD epoch for the ReLU network h = relu(X W1) W2."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = "missing_sigma_prime"
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(Z.shape[0]), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    m, k = X.shape[0], W2.shape[1]
    for i in range(0, m, batch):
        Xb = X[i:i + batch]
        yb = y[i:i + batch]
        B = Xb.shape[0]
        Z1 = np.maximum(Xb @ W1, 0)
        logits = Z1 @ W2
        S = np.exp(logits - logits.max(axis=1, keepdims=True))
        S = S / S.sum(axis=1, keepdims=True)
        I_y = np.zeros((B, k))
        I_y[np.arange(B), yb] = 1
        G2 = S - I_y
        G1 = G2 @ W2.T
        W1 -= lr * Xb.T @ G1 / B
        W2 -= lr * Z1.T @ G2 / B
