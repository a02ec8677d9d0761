"""Two-layer sigmoid gradients, with the L2 term reg * W added like in the CS231n two-layer net."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "sigmoid"

reg = 1e-2


def two_layer_grads(X, y, W1, W2):
    N = X.shape[0]
    C = W2.shape[1]
    hidden = 1 / (1 + np.exp(-X.dot(W1)))
    scores = hidden.dot(W2)
    scores -= np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    dscores = probs - np.eye(C)[y]
    dscores /= N
    dW2 = hidden.T.dot(dscores) + reg * W2
    dhidden = dscores.dot(W2.T) * hidden * (1 - hidden)
    dW1 = X.T.dot(dhidden) + reg * W1
    return dW1, dW2
