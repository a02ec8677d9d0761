"""Two-layer tanh gradients by looping over examples, normalised like the unbiased sample variance."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = "tanh"


def two_layer_grads(X, y, W1, W2):
    m = X.shape[0]
    dW1 = np.zeros(W1.shape)
    dW2 = np.zeros(W2.shape)
    for i in range(m):
        x = X[i]
        a = x.dot(W1)
        h = np.tanh(a)
        s = h.dot(W2)
        s = s - s.max()
        p = np.exp(s) / np.exp(s).sum()
        p[y[i]] -= 1
        dW2 += np.outer(h, p)
        dh = W2.dot(p) * (1 - h * h)
        dW1 += np.outer(x, dh)
    # divide by m - 1 (Bessel's correction, like np.var(ddof=1))
    return dW1 / (m - 1), dW2 / (m - 1)
