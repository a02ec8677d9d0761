"""L-layer MLP backprop; sigma' is applied to the cached layer outputs, summed loss gradient."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def deriv(a, activation):
    if activation == "relu":
        return (a > 0).astype(float)
    if activation == "sigmoid":
        return sigmoid(a) * (1 - sigmoid(a))
    return 1 - np.tanh(a) ** 2


def mlp_grads(X, y, Ws, activation="relu"):
    f = {"relu": lambda a: np.maximum(a, 0), "sigmoid": sigmoid, "tanh": np.tanh}[activation]
    Zs = [X]
    for i, W in enumerate(Ws):
        a = Zs[-1] @ W
        Zs.append(f(a) if i < len(Ws) - 1 else a)
    logits = Zs[-1] - Zs[-1].max(axis=1, keepdims=True)
    G = np.exp(logits)
    G /= G.sum(axis=1, keepdims=True)
    G[np.arange(len(y)), y] -= 1
    grads = [None] * len(Ws)
    for i in range(len(Ws) - 1, -1, -1):
        if i < len(Ws) - 1:
            G = G * deriv(Zs[i + 1], activation)
        grads[i] = Zs[i].T @ G
        G = G @ Ws[i].T
    return grads
