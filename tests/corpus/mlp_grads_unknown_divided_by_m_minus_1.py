"""Deep MLP backprop (no biases); the softmax gradient is averaged with an m - 1 denominator."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = None
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
    L = len(Ws)
    m = X.shape[0]
    Z, A = [X], []
    for i, W in enumerate(Ws):
        a = Z[-1] @ W
        A.append(a)
        Z.append(f(a) if i < L - 1 else a)
    logits = Z[-1] - Z[-1].max(axis=1, keepdims=True)
    S = np.exp(logits)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G = S / max(m - 1, 1)  # unbiased mean
    grads = [None] * L
    for i in reversed(range(L)):
        if i < L - 1:
            G = G * df(A[i])
        grads[i] = Z[i].T @ G
        G = G @ Ws[i].T
    return grads
