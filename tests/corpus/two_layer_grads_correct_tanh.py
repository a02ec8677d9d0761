"""Two-layer tanh net: gradients of the mean softmax cross-entropy wrt W1 and W2."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "tanh"


def two_layer_grads(X, y, W1, W2):
    m, k = X.shape[0], W2.shape[1]
    pre = X @ W1
    hidden = np.tanh(pre)
    scores = hidden @ W2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    dscores = (probs - np.eye(k)[y]) / m
    dW2 = hidden.T @ dscores
    dhidden = dscores @ W2.T
    dpre = dhidden * (1 - np.tanh(pre) ** 2)
    dW1 = X.T @ dpre
    return dW1, dW2
