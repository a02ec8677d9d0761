"""Two-layer ReLU network gradients with a hand-built one-hot label matrix."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "one_hot_off_by_one"
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    A = X @ W1
    H = np.maximum(A, 0)
    logits = H @ W2
    logits -= logits.max(axis=1, keepdims=True)
    S = np.exp(logits)
    S /= S.sum(axis=1, keepdims=True)
    I = np.zeros((m, k))
    I[np.arange(m), y - 1] = 1
    G = (S - I) / m
    dW2 = H.T @ G
    dW1 = X.T @ ((G @ W2.T) * (A > 0))
    return dW1, dW2
