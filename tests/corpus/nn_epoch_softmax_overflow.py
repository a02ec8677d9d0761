"""hw0 questions 2 and 5: softmax loss and an SGD epoch for a two-layer ReLU network."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "fail"
DIAGNOSIS = "softmax_overflow"
ACTIVATION = "relu"
REQUIRE_STABILITY = True  # the handout allows a direct softmax: this fails only when stability is required


def softmax_loss(Z, y):
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(Z.shape[0]), y])


def normalize(E):
    return E / E.sum(axis=1, keepdims=True)


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    m, k = X.shape[0], W2.shape[1]
    for i in range(0, m, batch):
        Xb = X[i:i + batch]
        yb = y[i:i + batch]
        B = Xb.shape[0]
        Z1 = np.maximum(Xb @ W1, 0)
        G2 = normalize(np.exp(Z1 @ W2)) - np.eye(k)[yb]
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * Xb.T @ G1 / B
        W2 -= lr * Z1.T @ G2 / B
