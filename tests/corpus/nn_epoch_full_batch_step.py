"""hw0 question 5: gradient descent on the two-layer network (one step per epoch)."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = "hard_coded_batch_size"
ACTIVATION = "relu"


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    m, k = X.shape[0], W2.shape[1]
    Z1 = np.maximum(0, X.dot(W1))
    S = np.exp(Z1.dot(W2))
    S /= S.sum(axis=1, keepdims=True)
    Iy = np.zeros((m, k))
    Iy[range(m), y] = 1
    G2 = (S - Iy) / m
    G1 = (Z1 > 0) * G2.dot(W2.T)
    W1 -= lr * X.T.dot(G1)
    W2 -= lr * Z1.T.dot(G2)
