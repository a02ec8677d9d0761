"""Manual backprop through a tanh hidden layer and a softmax output (Eqs. 10 and 11)."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = "sum_instead_of_mean"
ACTIVATION = "tanh"


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def two_layer_grads(X, y, W1, W2):
    k = W2.shape[1]
    H = np.tanh(X @ W1)
    S = softmax(H @ W2)
    I_y = np.eye(k)[y]
    G = S - I_y
    dW2 = H.T @ G
    dW1 = X.T @ (G @ W2.T * (1 - H ** 2))
    return dW1, dW2
