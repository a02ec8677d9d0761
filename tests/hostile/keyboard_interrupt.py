"""Raises what pytest would treat as the user pressing Ctrl-C."""
EXPECT = "KeyboardInterrupt"


def two_layer_grads(X, y, W1, W2):
    raise KeyboardInterrupt
