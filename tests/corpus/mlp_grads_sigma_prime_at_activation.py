"""Forward and backward pass of a bias-free MLP, returning [dW_1, ..., dW_L]."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = "sigma_prime_at_activation"
ACTIVATION = None


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


FUNCS = {"relu": lambda a: np.maximum(a, 0), "sigmoid": sigmoid, "tanh": np.tanh}
DERIVS = {
    "relu": lambda a: (a > 0).astype(float),
    "sigmoid": lambda a: sigmoid(a) * (1 - sigmoid(a)),
    "tanh": lambda a: 1 - np.tanh(a) ** 2,
}


def mlp_grads(X, y, Ws, activation="relu"):
    sigma, dsigma = FUNCS[activation], DERIVS[activation]
    L, m = len(Ws), X.shape[0]
    Z = [X]
    for i in range(L):
        a = Z[i] @ Ws[i]
        Z.append(sigma(a) if i < L - 1 else a)
    logits = Z[L] - Z[L].max(axis=1, keepdims=True)
    S = np.exp(logits)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(m), y] -= 1
    G = S / m
    dW = [None] * L
    for i in range(L - 1, -1, -1):
        if i < L - 1:
            G = G * dsigma(Z[i + 1])
        dW[i] = Z[i].T @ G
        G = G @ Ws[i].T
    return dW
