"""Deep MLP backprop (no biases, mean softmax loss) done in float32, results returned as float64."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = None


def mlp_grads(X, y, Ws, activation="relu"):
    Ws32 = [W.astype(np.float32) for W in Ws]
    h = X.astype(np.float32)
    L = len(Ws32)
    N = h.shape[0]

    # forward, remember every layer input and every hidden output
    layer_in, layer_out = [], []
    for l in range(L):
        layer_in.append(h)
        a = h @ Ws32[l]
        if l == L - 1:
            h = a  # logits, no activation
        elif activation == "relu":
            h = np.maximum(a, np.float32(0))
        elif activation == "sigmoid":
            h = np.float32(1) / (np.float32(1) + np.exp(-a))
        elif activation == "tanh":
            h = np.tanh(a)
        else:
            raise ValueError("unknown activation " + str(activation))
        layer_out.append(h)

    h = h - h.max(axis=1, keepdims=True)
    P = np.exp(h)
    P = P / P.sum(axis=1, keepdims=True)
    P[np.arange(N), y] -= 1
    delta = P / np.float32(N)

    dWs = [None] * L
    for l in range(L - 1, -1, -1):
        if l < L - 1:
            o = layer_out[l]
            # derivative written with the layer output
            if activation == "relu":
                delta = delta * (o > 0)
            elif activation == "sigmoid":
                delta = delta * o * (1 - o)
            else:
                delta = delta * (1 - o * o)
        dWs[l] = (layer_in[l].T @ delta).astype(np.float64)
        delta = delta @ Ws32[l].T
    return dWs
