"""Gradients of the softmax loss of a tanh two-layer network, mean over the batch."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "sign_flip"
ACTIVATION = "tanh"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    A = X @ W1
    H = np.tanh(A)
    out = H @ W2
    out = out - out.max(axis=1, keepdims=True)
    S = np.exp(out)
    S /= S.sum(axis=1, keepdims=True)
    I_y = np.zeros((m, k))
    I_y[np.arange(m), y] = 1
    G = (I_y - S) / m
    dW2 = H.T @ G
    dW1 = X.T @ ((G @ W2.T) * (1 - np.tanh(A) ** 2))
    return dW1, dW2
