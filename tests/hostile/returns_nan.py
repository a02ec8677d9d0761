"""Returns NaN everywhere."""
import numpy as np

EXPECT = "NaN or infinite"


def two_layer_grads(X, y, W1, W2):
    return np.full(W1.shape, np.nan), np.full(W2.shape, np.nan)
