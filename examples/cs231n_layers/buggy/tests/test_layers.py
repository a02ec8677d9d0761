"""Tests an assignment could ship: every backward checked as a vector-Jacobian product, then composed."""
import numpy as np

import layers
from gradcheck.testing import assert_function


def test_every_layer_and_the_two_layer_network(gradcheck):
    gradcheck.layers(layers)


def test_affine_backward_agrees_with_finite_differences_of_affine_forward():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    assert_function(lambda x, w, b: layers.affine_forward(x, w, b)[0],
                    lambda dout, x, w, b: layers.affine_backward(dout, layers.affine_forward(x, w, b)[1]),
                    {"x": x, "w": w, "b": b})
