"""L-layer MLP backprop (no biases) for the mean softmax cross-entropy."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = "missing_sigma_prime"
ACTIVATION = None


def activate(a, name):
    if name == "relu":
        return np.maximum(a, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-a))
    if name == "tanh":
        return np.tanh(a)
    raise ValueError(name)


def mlp_grads(X, y, Ws, activation="relu"):
    m = X.shape[0]
    Zs = [X]
    for i, W in enumerate(Ws):
        a = Zs[-1] @ W
        Zs.append(activate(a, activation) if i < len(Ws) - 1 else a)
    out = Zs[-1] - Zs[-1].max(axis=1, keepdims=True)
    S = np.exp(out)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G = S / m
    grads = []
    for i in reversed(range(len(Ws))):
        grads.append(Zs[i].T @ G)
        G = G @ Ws[i].T
    return grads[::-1]
