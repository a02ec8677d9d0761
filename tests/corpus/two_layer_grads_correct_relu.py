"""Gradients of a two-layer ReLU network with softmax cross-entropy (hw2, problem 3)."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax(Z):
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    k = W2.shape[1]
    Z1 = np.maximum(X @ W1, 0)
    S = softmax(Z1 @ W2)
    Iy = np.zeros((m, k))
    Iy[np.arange(m), y] = 1
    G2 = (S - Iy) / m
    G1 = (G2 @ W2.T) * (X @ W1 > 0)
    dW1 = X.T @ G1
    dW2 = Z1.T @ G2
    return dW1, dW2
