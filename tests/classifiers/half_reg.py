"""The 2016 handout: regularisation 0.5 * reg * sum(W²), so dW += reg * W."""
import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    s = X.dot(W)
    s = s - s.max(axis=1)[:, None]
    p = np.exp(s)
    p /= p.sum(axis=1)[:, None]
    loss = -np.sum(np.log(p[range(N), y])) / N + 0.5 * reg * np.sum(W * W)
    p[range(N), y] -= 1
    return loss, X.T.dot(p) / N + reg * W
