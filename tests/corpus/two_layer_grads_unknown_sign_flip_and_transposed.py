"""Two-layer ReLU gradients from my derivation of d(loss)/dW, written with np.dot."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    k = W2.shape[1]
    A = np.dot(X, W1)
    H = np.maximum(A, 0)
    s = np.dot(H, W2)
    s = s - np.max(s, axis=1, keepdims=True)
    p = np.exp(s) / np.sum(np.exp(s), axis=1, keepdims=True)
    Iy = np.zeros((m, k))
    Iy[np.arange(m), y] = 1
    G = (Iy - p) / m  # error = target - output
    dW2 = np.dot(G.T, H)
    dW1 = np.dot(X.T, np.dot(G, W2.T) * (A > 0))
    return dW1, dW2
