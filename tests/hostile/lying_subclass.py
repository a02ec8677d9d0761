"""Returns an array whose comparisons and arithmetic always claim agreement."""
import numpy as np

EXPECT = "disagree"


class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, bool)

    def __array_ufunc__(self, *args, **kwargs):
        return np.zeros(self.shape)


def two_layer_grads(X, y, W1, W2):
    return np.zeros_like(W1).view(Liar), np.zeros_like(W2).view(Liar)
