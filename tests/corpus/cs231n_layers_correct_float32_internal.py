"""assignment 2 layers.py, every layer computing in float32 (x = x.astype(np.float32)) to save memory."""
import numpy as np

CONVENTION = "cs231n_layers"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = None


def affine_forward(x, w, b):
    """x: (N, d_1, ..., d_k) -> out: (N, M)."""
    x = x.astype(np.float32)
    w = w.astype(np.float32)
    b = b.astype(np.float32)
    N = x.shape[0]
    x_row = x.reshape(N, -1)   # (N, D)
    out = x_row.dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dout = dout.astype(np.float32)
    N = x.shape[0]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(N, -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    x = x.astype(np.float32)
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout.astype(np.float32) * (x > 0)
    return dx


def sigmoid_forward(x):
    x = x.astype(np.float32)
    out = 1.0 / (1.0 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    s = cache
    return (dout.astype(np.float32) * s * (1.0 - s)).astype(np.float64)


def tanh_forward(x):
    x = x.astype(np.float32)
    t = np.tanh(x)
    return t, t


def tanh_backward(dout, cache):
    t = cache
    return (dout.astype(np.float32) * (1.0 - t * t)).astype(np.float64)


def softmax_loss(x, y):
    x = x.astype(np.float32)
    N = x.shape[0]
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return float(loss), dx.astype(np.float64)
