"""hw0 question 5: nn_epoch with SGD + momentum (beta = 0.9), which converged faster for me on MNIST."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(Z).sum(axis=1))
    return float(np.mean(log_sum - Z[np.arange(Z.shape[0]), y]))


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    beta = 0.9
    v1 = np.zeros_like(W1)
    v2 = np.zeros_like(W2)
    k = W2.shape[1]
    for i in range(0, X.shape[0], batch):
        X_b = X[i:i + batch]
        y_b = y[i:i + batch]
        B = X_b.shape[0]
        Z1 = np.maximum(X_b @ W1, 0)
        logits = Z1 @ W2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        G2 = E / E.sum(axis=1, keepdims=True) - np.eye(k)[y_b]
        G1 = (Z1 > 0) * (G2 @ W2.T)
        v1 = beta * v1 + X_b.T @ G1 / B
        v2 = beta * v2 + Z1.T @ G2 / B
        W1 -= lr * v1
        W2 -= lr * v2
