"""Two-layer ReLU net gradients (mean softmax cross-entropy), hw2 problem 3."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "transposed"
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    A = X @ W1
    H = np.maximum(A, 0)
    scores = H @ W2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(m), y] -= 1
    delta2 = probs / m
    delta1 = (delta2 @ W2.T) * (A > 0)
    dW2 = H.T @ delta2
    dW1 = delta1.T @ X
    return dW1, dW2
