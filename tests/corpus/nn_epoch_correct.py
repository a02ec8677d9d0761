"""hw0 question 5: one epoch of minibatch SGD for a two-layer ReLU network."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(Z).sum(axis=1))
    return float(np.mean(log_sum - Z[np.arange(Z.shape[0]), y]))


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    m = X.shape[0]
    k = W2.shape[1]
    for i in range(0, m, batch):
        X_b = X[i:i + batch]
        y_b = y[i:i + batch]
        B = X_b.shape[0]
        Z1 = np.maximum(X_b @ W1, 0)
        logits = Z1 @ W2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        S = E / E.sum(axis=1, keepdims=True)
        I_y = np.zeros((B, k))
        I_y[np.arange(B), y_b] = 1
        G2 = S - I_y
        G1 = (Z1 > 0) * (G2 @ W2.T)
        grad1 = X_b.T @ G1 / B
        grad2 = Z1.T @ G2 / B
        W1 -= lr * grad1
        W2 -= lr * grad2
