"""Two-layer ReLU gradients with gradient clipping to [-0.05, 0.05], as the RNN lecture recommended."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"

CLIP = 0.05


def two_layer_grads(X, y, W1, W2):
    X = X.astype(np.float32)
    W1 = W1.astype(np.float32)
    W2 = W2.astype(np.float32)
    m, k = X.shape[0], W2.shape[1]
    A = X @ W1
    H = np.maximum(A, 0)
    logits = H @ W2
    logits -= logits.max(axis=1, keepdims=True)
    P = np.exp(logits)
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(m), y] -= 1
    P /= m
    dW2 = H.T @ P
    dW1 = X.T @ ((P @ W2.T) * (A > 0))
    return np.clip(dW1, -CLIP, CLIP), np.clip(dW2, -CLIP, CLIP)
