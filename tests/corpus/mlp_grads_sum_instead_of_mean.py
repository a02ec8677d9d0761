"""Backpropagation for an L-layer MLP, following the lecture's Eqs. 14 and 15."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = "sum_instead_of_mean"
ACTIVATION = None


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


ACTS = {
    "relu": (lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(float)),
    "sigmoid": (sigmoid, lambda a: sigmoid(a) * (1 - sigmoid(a))),
    "tanh": (np.tanh, lambda a: 1 - np.tanh(a) ** 2),
}


def mlp_grads(X, y, Ws, activation="relu"):
    f, df = ACTS[activation]
    L, m, k = len(Ws), X.shape[0], Ws[-1].shape[1]
    Z, A = [X], []
    for i, W in enumerate(Ws):
        A.append(Z[-1] @ W)
        Z.append(f(A[-1]) if i < L - 1 else A[-1])
    e = np.exp(Z[-1] - Z[-1].max(axis=1, keepdims=True))
    S = e / e.sum(axis=1, keepdims=True)
    G = S - np.eye(k)[y]
    grads = [None] * L
    for i in reversed(range(L)):
        if i < L - 1:
            G = G * df(A[i])
        grads[i] = Z[i].T @ G
        G = G @ Ws[i].T
    return grads
