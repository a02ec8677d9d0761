"""MLP backprop generalised from the 2- and 3-layer lecture formulas; the middle-layer loop is new code."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "fail"
DIAGNOSIS = None
ACTIVATION = None


def sig(t):
    return 1 / (1 + np.exp(-t))


def mlp_grads(X, y, Ws, activation="relu"):
    if activation == "relu":
        f, fprime = (lambda t: np.maximum(t, 0)), (lambda t: (t > 0).astype(float))
    elif activation == "sigmoid":
        f, fprime = sig, (lambda t: sig(t) * (1 - sig(t)))
    elif activation == "tanh":
        f, fprime = np.tanh, (lambda t: 1 - np.tanh(t) ** 2)
    else:
        raise ValueError(activation)

    L = len(Ws)
    m, k = X.shape[0], Ws[-1].shape[1]
    Z = [X]   # Z[i] is the input of layer i
    A = []    # A[i] = Z[i] @ Ws[i]
    for i in range(L):
        A.append(Z[i] @ Ws[i])
        Z.append(f(A[i]) if i < L - 1 else A[i])

    logits = Z[L] - Z[L].max(axis=1, keepdims=True)
    S = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    Iy = np.zeros((m, k))
    Iy[np.arange(m), y] = 1

    grads = [None] * L
    # output layer (Eq. 10)
    delta = (S - Iy) / m
    grads[L - 1] = Z[L - 1].T @ delta
    if L == 1:
        return grads
    # down into the last hidden layer
    delta = (delta @ Ws[L - 1].T) * fprime(A[L - 2])
    # hidden-to-hidden layers, from the top down (only runs for 4+ layers)
    for i in range(L - 2, 1, -1):
        grads[i] = Z[i].T @ delta
        delta = delta @ Ws[i].T  # same as above
    # layer 2 -> layer 1 (Eq. 14), then the first layer (Eq. 11)
    if L >= 3:
        grads[1] = Z[1].T @ delta
        delta = (delta @ Ws[1].T) * fprime(A[0])
    grads[0] = X.T @ delta
    return grads
