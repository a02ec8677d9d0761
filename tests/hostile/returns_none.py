"""Forgets to return."""
EXPECT = "it returned None"


def two_layer_grads(X, y, W1, W2):
    dW1 = W1 * 0
