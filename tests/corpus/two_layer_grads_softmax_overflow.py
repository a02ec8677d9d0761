"""Two-layer ReLU network: softmax, cross-entropy and the two weight gradients."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "softmax_overflow"
ACTIVATION = "relu"
REQUIRE_STABILITY = True  # the handout allows a direct softmax: this fails only when stability is required


def softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    A = X @ W1
    H = np.maximum(A, 0)
    S = softmax(H @ W2)
    S[np.arange(m), y] -= 1
    G = S / m
    dW2 = H.T @ G
    dW1 = X.T @ ((G @ W2.T) * (A > 0))
    return dW1, dW2
