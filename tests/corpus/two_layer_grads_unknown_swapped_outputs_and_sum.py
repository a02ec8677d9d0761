"""Two-layer ReLU gradients, output layer first as in my backprop notes, softmax loss."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    A1 = X @ W1
    Z1 = np.maximum(A1, 0)
    logits = Z1 @ W2
    logits = logits - logits.max(axis=1, keepdims=True)
    S = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    grad_W2 = Z1.T @ S
    grad_W1 = X.T @ ((S @ W2.T) * (A1 > 0))
    return grad_W2, grad_W1
