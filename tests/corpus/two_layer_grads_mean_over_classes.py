"""ReLU two-layer network: gradients of the average softmax cross-entropy."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "mean_over_classes"
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    A = X @ W1
    Z = np.maximum(A, 0)
    logits = Z @ W2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    S = e / e.sum(axis=1, keepdims=True)
    Y = np.zeros_like(S)
    Y[np.arange(len(y)), y] = 1
    G = (S - Y) / S.shape[1]
    dW2 = Z.T @ G
    dW1 = X.T @ ((G @ W2.T) * (A > 0))
    return dW1, dW2
