"""Two-layer sigmoid gradients; I reuse sigmoid_prime on the cached hidden output and average with np.mean."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "sigmoid"


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_prime(x):
    return sigmoid(x) * (1 - sigmoid(x))


def two_layer_grads(X, y, W1, W2):
    k = W2.shape[1]
    H = sigmoid(X @ W1)
    logits = H @ W2
    logits = logits - logits.max(axis=1, keepdims=True)
    S = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / k  # mean of the softmax gradient
    dW2 = H.T @ G
    dW1 = X.T @ ((G @ W2.T) * sigmoid_prime(H))
    return dW1, dW2
