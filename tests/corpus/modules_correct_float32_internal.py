"""Module-style layers with manual backward; every forward/backward runs in float32."""
import numpy as np

CONVENTION = "modules"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = None

f32 = np.float32


class Linear:
    def __init__(self, W):
        self.W = W  # keep the caller's array, cast when used

    def forward(self, Z):
        self.inp = np.asarray(Z, dtype=f32)
        return self.inp @ self.W.astype(f32)

    def backward(self, G):
        G = np.asarray(G, dtype=f32)
        self.dW = self.inp.T @ G
        return G @ self.W.astype(f32).T


class ReLU:
    def forward(self, Z):
        self.mask = np.asarray(Z, dtype=f32) > 0
        return np.where(self.mask, Z, 0).astype(f32)

    def backward(self, G):
        return np.asarray(G, dtype=f32) * self.mask


class Sigmoid:
    def forward(self, Z):
        self.s = f32(1) / (f32(1) + np.exp(-np.asarray(Z, dtype=f32)))
        return self.s

    def backward(self, G):
        return np.asarray(G, dtype=f32) * self.s * (f32(1) - self.s)


class Tanh:
    def forward(self, Z):
        self.t = np.tanh(np.asarray(Z, dtype=f32))
        return self.t

    def backward(self, G):
        return np.asarray(G, dtype=f32) * (f32(1) - self.t ** 2)


class SoftmaxCrossEntropy:
    def forward(self, logits, y):
        z = np.asarray(logits, dtype=f32)
        z = z - z.max(axis=1, keepdims=True)
        self.logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.y = y
        return float(-self.logp[np.arange(len(y)), y].mean())

    def backward(self):
        n = self.logp.shape[0]
        G = np.exp(self.logp)
        G[np.arange(n), self.y] -= 1
        return G / f32(n)
