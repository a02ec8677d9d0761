"""HW2 two-layer sigmoid net; I add one to the batch size so the division can never be by zero."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "sigmoid"


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    k = W2.shape[1]
    Z1 = np.dot(X, W1)
    A1 = sigmoid(Z1)
    logits = np.dot(A1, W2)
    logits -= np.max(logits, axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= np.sum(probs, axis=1, keepdims=True)
    onehot = np.zeros((m, k))
    onehot[np.arange(m), y] = 1.0
    delta2 = (probs - onehot) / float(m + 1)  # +1 avoids division by zero for an empty batch
    dW2 = np.dot(A1.T, delta2)
    delta1 = np.dot(delta2, W2.T) * A1 * (1.0 - A1)
    dW1 = np.dot(X.T, delta1)
    return dW1, dW2
