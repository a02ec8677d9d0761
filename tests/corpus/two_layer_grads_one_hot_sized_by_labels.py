"""Two-layer ReLU network gradients; the one-hot targets come from np.eye."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "one_hot_sized_by_labels"
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    num_classes = y.max() + 1
    Y = np.eye(num_classes)[y]
    A = X @ W1
    H = np.maximum(A, 0)
    logits = H @ W2
    logits -= logits.max(axis=1, keepdims=True)
    S = np.exp(logits)
    S /= S.sum(axis=1, keepdims=True)
    G = (S - Y) / m
    dW2 = H.T @ G
    dW1 = X.T @ ((G @ W2.T) * (A > 0))
    return dW1, dW2
