"""L-layer MLP gradients (Eq. 15); I take the batch mean of the loss gradient and of each dW."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


def forward_act(a, activation):
    return {"relu": lambda: np.maximum(a, 0), "sigmoid": lambda: 1 / (1 + np.exp(-a)),
            "tanh": lambda: np.tanh(a)}[activation]()


def mlp_grads(X, y, Ws, activation="relu"):
    m = X.shape[0]
    k = Ws[-1].shape[1]
    Zs = [X]
    for i in range(len(Ws)):
        a = Zs[i] @ Ws[i]
        Zs.append(a if i == len(Ws) - 1 else forward_act(a, activation))
    logits = Zs[-1] - np.max(Zs[-1], axis=1, keepdims=True)
    S = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    I_y = np.zeros((m, k))
    I_y[np.arange(m), y] = 1
    G = (S - I_y) / m
    dWs = []
    for i in range(len(Ws) - 1, -1, -1):
        dWs.insert(0, Zs[i].T @ G / m)  # mean over the batch
        G = G @ Ws[i].T
    return dWs
