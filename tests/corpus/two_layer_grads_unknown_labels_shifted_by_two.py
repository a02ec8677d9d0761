"""Two-layer ReLU gradients; the one-hot is built by rolling the identity rows (np.roll by 2)."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    A = np.einsum("mn,nd->md", X, W1)
    H = np.maximum(A, 0.0)
    logits = np.einsum("md,dk->mk", H, W2)
    S = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    Iy = np.roll(np.eye(k)[y], 2, axis=1)
    G = (S - Iy) / m
    dW2 = np.einsum("md,mk->dk", H, G)
    dA = np.einsum("mk,dk->md", G, W2) * (A >= 0)
    dW1 = np.einsum("mn,md->nd", X, dA)
    return dW1, dW2
