"""Two-layer ReLU gradients; I give the negative side a 0.01 slope in backprop so units never die."""
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
    S = np.exp(logits)
    S = S / S.sum(axis=1, keepdims=True)
    G2 = (S - np.eye(k)[y]) / m
    relu_grad = np.where(A1 >= 0, 1.0, 0.01)  # leaky, avoids dead ReLUs
    G1 = (G2 @ W2.T) * relu_grad
    return X.T @ G1, Z1.T @ G2
