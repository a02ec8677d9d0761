"""Two-layer ReLU gradients for the homework's minibatches of 64 examples."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"

BATCH_SIZE = 64


def two_layer_grads(X, y, W1, W2):
    k = W2.shape[1]
    H = np.maximum(X @ W1, 0)
    logits = H @ W2
    logits = logits - logits.max(axis=1, keepdims=True)
    S = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    G2 = (S - np.eye(k)[y]) / BATCH_SIZE
    G1 = G2 @ W2.T
    return X.T @ G1, H.T @ G2
