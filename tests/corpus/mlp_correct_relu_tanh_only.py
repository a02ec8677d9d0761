"""Gradients of a deep MLP (no biases) with ReLU or tanh hidden layers and softmax loss."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = None
DECLARED_ACTIVATIONS = ("relu", "tanh")  # what its author tells gradcheck (--activation relu --activation tanh)


def mlp_grads(X, y, Ws, activation="relu"):
    if activation == "relu":
        act = lambda a: np.maximum(a, 0)
        dact = lambda a: (a > 0) * 1.0
    elif activation == "tanh":
        act = np.tanh
        dact = lambda a: 1.0 / np.cosh(a) ** 2
    else:
        raise ValueError("unsupported activation")

    m, k = X.shape[0], Ws[-1].shape[1]
    inputs, pre = [], []
    Z = X
    for i, W in enumerate(Ws):
        inputs.append(Z)
        a = Z @ W
        pre.append(a)
        Z = act(a) if i < len(Ws) - 1 else a
    Z = Z - Z.max(axis=1, keepdims=True)
    S = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    G = (S - np.eye(k)[y]) / m
    dWs = []
    for i in range(len(Ws) - 1, -1, -1):
        delta = G if i == len(Ws) - 1 else G * dact(pre[i])
        dWs.insert(0, inputs[i].T @ delta)
        G = delta @ Ws[i].T
    return dWs
