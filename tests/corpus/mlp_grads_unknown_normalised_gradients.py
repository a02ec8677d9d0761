"""Deep MLP gradients, each returned with unit Frobenius norm so that deep nets train stably."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


def mlp_grads(X, y, Ws, activation="relu"):
    if activation == "relu":
        f, df = (lambda a: np.maximum(a, 0)), (lambda a: (a > 0).astype(float))
    elif activation == "sigmoid":
        f = lambda a: 1 / (1 + np.exp(-a))
        df = lambda a: f(a) * (1 - f(a))
    else:
        f, df = np.tanh, (lambda a: 1 / np.cosh(a) ** 2)
    m, k = X.shape[0], Ws[-1].shape[1]
    Z, A = [X], []
    for i, W in enumerate(Ws):
        A.append(Z[-1] @ W)
        Z.append(f(A[-1]) if i < len(Ws) - 1 else A[-1])
    h = Z[-1] - Z[-1].max(axis=1, keepdims=True)
    S = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / m
    out = [None] * len(Ws)
    for i in range(len(Ws) - 1, -1, -1):
        if i < len(Ws) - 1:
            G = G * df(A[i])
        g = Z[i].T @ G
        out[i] = g / (np.linalg.norm(g) + 1e-8)
        G = G @ Ws[i].T
    return out
