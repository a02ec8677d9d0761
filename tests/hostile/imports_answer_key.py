"""Hands in the grader's own reference solution."""
from reference_mlp.mlp import two_layer_gradients

EXPECT = "importing the submission raised (ImportError|ModuleNotFoundError)"


def two_layer_grads(X, y, W1, W2):
    return two_layer_gradients(X, y, W1, W2)
