"""Two-layer ReLU network gradients written with np.einsum (index notation from lecture)."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    A = np.einsum("mn,nd->md", X, W1)
    H = np.maximum(A, 0.0)
    logits = np.einsum("md,dk->mk", H, W2)
    logits = logits - logits.max(axis=1, keepdims=True)
    S = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / m
    dW2 = np.einsum("md,mk->dk", H, G)
    dA = np.einsum("mk,dk->md", G, W2) * (A > 0)
    dW1 = np.einsum("mn,md->nd", X, dA)
    return dW1, dW2
