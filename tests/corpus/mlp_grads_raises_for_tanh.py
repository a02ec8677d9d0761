"""MLP gradients for ReLU and sigmoid hidden layers; tanh was never implemented."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None
ACTIVATIONS = ("relu", "sigmoid")


def mlp_grads(X, y, Ws, activation="relu"):
    if activation == "tanh":
        raise NotImplementedError("tanh")
    cache = []
    out = X
    for j, W in enumerate(Ws):
        pre = out.dot(W)
        if j == len(Ws) - 1:
            out = pre
        elif activation == "relu":
            out = np.maximum(pre, 0)
        else:
            out = 1. / (1. + np.exp(-pre))
        cache.append((pre, out))

    num = X.shape[0]
    scores = out - out.max(axis=1).reshape(-1, 1)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1).reshape(-1, 1)
    dscores = probs
    dscores[np.arange(num), y] -= 1
    dscores /= num

    dWs = []
    d = dscores
    for j in reversed(range(len(Ws))):
        if j < len(Ws) - 1:
            pre, out = cache[j]
            if activation == "relu":
                d = d * (pre > 0)
            else:
                d = d * out * (1 - out)
        below = X if j == 0 else cache[j - 1][1]
        dWs.append(below.T.dot(d))
        d = d.dot(Ws[j].T)
    return dWs[::-1]
