"""Backprop through a deep MLP with a cached list of activations (my own indexing)."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def mlp_grads(X, y, Ws, activation="relu"):
    f = {"relu": lambda a: np.maximum(a, 0), "sigmoid": sigmoid, "tanh": np.tanh}[activation]
    df = {"relu": lambda a: (a > 0) * 1.0, "sigmoid": lambda a: sigmoid(a) * (1 - sigmoid(a)),
          "tanh": lambda a: 1 - np.tanh(a) ** 2}[activation]
    L = len(Ws)
    m, k = X.shape[0], Ws[-1].shape[1]
    cache = [X]
    pre = []
    for i in range(L):
        pre.append(cache[-1] @ Ws[i])
        cache.append(f(pre[-1]) if i < L - 1 else pre[-1])
    h = cache[-1] - cache[-1].max(axis=1, keepdims=True)
    S = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    G = (np.eye(k)[y] - S) / m  # error = target - prediction
    grads = [None] * L
    for i in reversed(range(L)):
        if i < L - 1:
            G = G * df(pre[i])
        grads[i] = cache[i + 1].T @ G
        G = G @ Ws[i].T
    return grads
