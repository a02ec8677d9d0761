"""Two-layer ReLU network gradients in single precision (float32 to match the GPU version)."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    X = X.astype(np.float32)
    W1 = W1.astype(np.float32)
    W2 = W2.astype(np.float32)
    m = X.shape[0]
    A1 = X @ W1
    Z1 = np.maximum(A1, np.float32(0))
    logits = Z1 @ W2
    logits -= logits.max(axis=1, keepdims=True)
    S = np.exp(logits)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G2 = S / np.float32(m)
    G1 = (G2 @ W2.T) * (A1 > 0)
    return X.T @ G1, Z1.T @ G2
