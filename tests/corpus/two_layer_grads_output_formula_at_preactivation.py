"""Two-layer tanh network, gradients of the mean cross-entropy loss wrt both weight matrices."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "output_formula_at_preactivation"
ACTIVATION = "tanh"


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    A = X @ W1
    H = np.tanh(A)
    logits = H @ W2
    logits -= logits.max(axis=1, keepdims=True)
    S = np.exp(logits)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    S /= m
    dW2 = H.T @ S
    dA = (S @ W2.T) * (1 - A ** 2)
    dW1 = X.T @ dA
    return dW1, dW2
