"""Module library (Linear, ReLU, Sigmoid, Tanh, SoftmaxCrossEntropy); the loss backward smooths the targets by 0.1."""
import numpy as np

CONVENTION = "modules"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


class Linear:
    def __init__(self, W):
        self.W = W

    def forward(self, Z):
        self.Z = Z
        return Z @ self.W

    def backward(self, G):
        self.dW = self.Z.T @ G
        return G @ self.W.T


class ReLU:
    def forward(self, Z):
        self.A = Z
        return np.maximum(Z, 0)

    def backward(self, G):
        return G * (self.A > 0)


class Sigmoid:
    def forward(self, Z):
        self.out = 1 / (1 + np.exp(-Z))
        return self.out

    def backward(self, G):
        return G * self.out * (1 - self.out)


class Tanh:
    def forward(self, Z):
        self.out = np.tanh(Z)
        return self.out

    def backward(self, G):
        return G * (1 - self.out ** 2)


class SoftmaxCrossEntropy:
    def forward(self, logits, y):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_S = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.S = np.exp(log_S)
        self.y = y
        return -np.mean(log_S[np.arange(len(y)), y])

    def backward(self):
        m, k = self.S.shape
        eps = 0.1  # label smoothing
        target = np.full((m, k), eps / k)
        target[np.arange(m), self.y] += 1 - eps
        return (self.S - target) / m
