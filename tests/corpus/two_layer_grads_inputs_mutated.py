"""Two-layer ReLU network gradients, folding the 1/m of the mean into the backward pass."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "inputs_mutated"
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    A = X @ W1
    Z1 = np.maximum(A, 0)
    logits = Z1 @ W2
    logits -= logits.max(axis=1, keepdims=True)
    S = np.exp(logits)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    dW2 = Z1.T @ S / m
    W2t = W2.T
    W2t /= m
    dW1 = X.T @ ((S @ W2t) * (A > 0))
    return dW1, dW2
