"""Two-layer ReLU backprop; W2 is reshaped to (k, d) to send the gradient back to the hidden layer."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    d, k = W2.shape
    A = X @ W1
    Z = np.maximum(A, 0)
    h = Z @ W2
    h = h - h.max(axis=1, keepdims=True)
    S = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / m
    dW2 = Z.T @ G
    W2_back = W2.reshape(k, d)  # (d, k) -> (k, d) so that G @ W2_back is (m, d)
    dW1 = X.T @ ((G @ W2_back) * (A > 0))
    return dW1, dW2
