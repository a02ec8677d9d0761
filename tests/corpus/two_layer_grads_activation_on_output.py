"""Two-layer sigmoid network h = sigmoid(sigmoid(X W1) W2) trained with softmax cross-entropy."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "activation_on_output"
ACTIVATION = "sigmoid"


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    A1 = X @ W1
    Z1 = sigmoid(A1)
    A2 = Z1 @ W2
    Z2 = sigmoid(A2)
    S = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G3 = S / m
    D2 = G3 * Z2 * (1 - Z2)
    dW2 = Z1.T @ D2
    D1 = (D2 @ W2.T) * Z1 * (1 - Z1)
    dW1 = X.T @ D1
    return dW1, dW2
