"""MLP backprop without biases: every layer's delta is multiplied by sigma' of its pre-activation."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


def activate(a, name):
    if name == "relu":
        return np.maximum(a, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-a))
    if name == "tanh":
        return np.tanh(a)
    raise ValueError(name)


def derivative(a, name):
    if name == "relu":
        return (a > 0) * 1.0
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-a))
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(a) ** 2
    raise ValueError(name)


def mlp_grads(X, y, Ws, activation="relu"):
    m = X.shape[0]
    Zs, As = [X], []
    for i, W in enumerate(Ws):
        As.append(Zs[-1] @ W)
        Zs.append(activate(As[-1], activation) if i < len(Ws) - 1 else As[-1])
    out = Zs[-1] - Zs[-1].max(axis=1, keepdims=True)
    S = np.exp(out)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G = S / m
    grads = []
    for i in reversed(range(len(Ws))):
        delta = G * derivative(As[i], activation)  # the last layer too
        grads.append(Zs[i].T @ delta)
        G = delta @ Ws[i].T
    return grads[::-1]
