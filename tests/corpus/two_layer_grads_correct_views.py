"""Two-layer tanh net gradients, packed into one flat vector (for scipy.optimize) and unpacked."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "tanh"


def flat_grad(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    H = np.tanh(X @ W1)
    L = H @ W2
    L = L - L.max(axis=1, keepdims=True)
    S = np.exp(L) / np.exp(L).sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / m
    dW2 = H.T @ G
    dW1 = X.T @ ((G @ W2.T) * (1 - H ** 2))
    return np.concatenate([dW1.ravel(), dW2.ravel()])


def two_layer_grads(X, y, W1, W2):
    g = flat_grad(X, y, W1, W2)
    return g[:W1.size].reshape(W1.shape), g[W1.size:].reshape(W2.shape)
