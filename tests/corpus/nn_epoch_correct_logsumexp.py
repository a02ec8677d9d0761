"""hw0: softmax loss via log-sum-exp and an SGD epoch for a ReLU two-layer network."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "relu"


def logsumexp(Z):
    c = Z.max(axis=1)
    return c + np.log(np.exp(Z - c[:, None]).sum(axis=1))


def softmax_loss(Z, y):
    return np.mean(logsumexp(Z) - Z[np.arange(len(y)), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    num_examples = X.shape[0]
    num_classes = W2.shape[1]
    for start in range(0, num_examples, batch):
        Xb = X[start:start + batch]
        yb = y[start:start + batch]
        B = len(Xb)
        Z1 = np.maximum(Xb @ W1, 0)
        H = Z1 @ W2
        S = np.exp(H - logsumexp(H)[:, None])
        G2 = S - np.eye(num_classes)[yb]
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * (Xb.T @ G1) / B
        W2 -= lr * (Z1.T @ G2) / B
