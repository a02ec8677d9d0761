"""Backprop for a two-layer sigmoid network, softmax loss averaged over the batch."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "sigmoid"


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def two_layer_grads(X, y, W1, W2):
    m = len(X)
    A = X @ W1
    H = sigmoid(A)
    logits = H @ W2
    logits = logits - np.max(logits, axis=1, keepdims=True)
    P = np.exp(logits)
    P = P / P.sum(axis=1, keepdims=True)
    P[np.arange(m), y] -= 1
    delta2 = P / m
    dW2 = H.T @ delta2
    delta1 = (delta2 @ W2.T) * sigmoid(A) * (1 - sigmoid(A))
    dW1 = X.T @ delta1
    return dW1, dW2
