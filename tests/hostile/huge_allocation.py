"""Asks for 800 GB."""
import numpy as np

EXPECT = "MemoryError"


def two_layer_grads(X, y, W1, W2):
    big = np.ones((10**11,))
    return big, big
