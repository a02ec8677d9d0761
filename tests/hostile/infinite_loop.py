"""Never returns."""
EXPECT = "time limit of 10 s exceeded"


def two_layer_grads(X, y, W1, W2):
    while True:
        pass
