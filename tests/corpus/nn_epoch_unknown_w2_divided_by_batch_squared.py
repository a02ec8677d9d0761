"""hw0 question 5: minibatch SGD epoch for the two-layer ReLU network (float32 like the MNIST loader)."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(Z.shape[0]), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    num_examples = X.shape[0]
    num_classes = W2.shape[1]
    for start in range(0, num_examples, batch):
        Xb = X[start:start + batch].astype(np.float32)
        yb = y[start:start + batch]
        n = Xb.shape[0]
        Z1 = np.maximum(Xb @ W1, 0)
        E = np.exp(Z1 @ W2)
        S = E / E.sum(axis=1, keepdims=True)
        Iy = np.zeros((n, num_classes), dtype=np.float32)
        Iy[np.arange(n), yb] = 1
        G2 = (S - Iy) / n
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * Xb.T @ G1
        W2 -= lr * Z1.T @ G2 / n
