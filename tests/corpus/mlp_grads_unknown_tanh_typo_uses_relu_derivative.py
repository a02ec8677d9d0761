"""MLP backprop (no biases) for relu, sigmoid and tanh hidden layers, with my own derivative helper."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


def act(a, name):
    if name == "sigmoid":
        return 1 / (1 + np.exp(-a))
    if name == "tanh":
        return np.tanh(a)
    return np.maximum(a, 0)


def act_prime(a, name):
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-a))
        return s * (1 - s)
    if name == "tanh ":
        return 1 - np.tanh(a) ** 2
    return (a > 0).astype(a.dtype)  # relu


def mlp_grads(X, y, Ws, activation="relu"):
    m, k = X.shape[0], Ws[-1].shape[1]
    Zs, As = [X], []
    for l in range(len(Ws)):
        As.append(np.dot(Zs[-1], Ws[l]))
        Zs.append(act(As[-1], activation) if l < len(Ws) - 1 else As[-1])
    h = Zs[-1] - Zs[-1].max(axis=1, keepdims=True)
    S = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / m
    grads = [None] * len(Ws)
    for l in range(len(Ws) - 1, -1, -1):
        if l != len(Ws) - 1:
            G = G * act_prime(As[l], activation)
        grads[l] = np.dot(Zs[l].T, G)
        G = np.dot(G, Ws[l].T)
    return grads
