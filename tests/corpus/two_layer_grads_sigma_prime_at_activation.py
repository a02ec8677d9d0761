"""Two-layer sigmoid network: backprop of the batch-mean softmax loss (Eqs. 10-11)."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "sigma_prime_at_activation"
ACTIVATION = "sigmoid"


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_grad(z):
    return sigmoid(z) * (1 - sigmoid(z))


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    H = sigmoid(X @ W1)
    Z = H @ W2
    Z = Z - Z.max(axis=1, keepdims=True)
    S = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / m
    dW2 = H.T @ G
    dW1 = X.T @ ((G @ W2.T) * sigmoid_grad(H))
    return dW1, dW2
