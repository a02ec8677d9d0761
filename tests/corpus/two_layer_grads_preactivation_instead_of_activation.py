"""Two-layer ReLU network, dW1 and dW2 for the mean softmax cross-entropy."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "preactivation_instead_of_activation"
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    XW1 = X @ W1
    H = np.maximum(XW1, 0)
    logits = H @ W2
    logits -= logits.max(axis=1, keepdims=True)
    S = np.exp(logits)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G = S / m
    dW2 = XW1.T @ G
    dW1 = X.T @ ((G @ W2.T) * (XW1 > 0))
    return dW1, dW2
