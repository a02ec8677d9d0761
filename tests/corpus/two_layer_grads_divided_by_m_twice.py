"""Two-layer sigmoid network gradients, averaged over the minibatch."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "divided_by_m_twice"
ACTIVATION = "sigmoid"


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    A = X @ W1
    H = 1 / (1 + np.exp(-A))
    logits = H @ W2
    logits = logits - logits.max(axis=1, keepdims=True)
    S = np.exp(logits)
    S = S / S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G2 = S / m
    G1 = (G2 @ W2.T) * H * (1 - H)
    dW2 = H.T @ G2 / m
    dW1 = X.T @ G1 / m
    return dW1, dW2
