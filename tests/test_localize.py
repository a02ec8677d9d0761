"""Black-box localisation: a few wrong entries among ~100k found in O(k log P) evaluations."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.localize import localize
from gradcheck.witnesses import make_problem
from reference_mlp import Architecture, InvalidArgument, mlp

ARCH = Architecture.build((784, 128, 10), hidden="tanh")  # W1 alone has 100,352 entries
PROBLEM = make_problem(ARCH, m=64, seed=0)
GRADIENT = mlp.gradients(ARCH, PROBLEM.params, PROBLEM.X, PROBLEM.y).dW[0]


def loss(W1):
    return mlp.loss(ARCH, PROBLEM.params.replace("W1", W1), PROBLEM.X, PROBLEM.y)


def test_a_correct_gradient_is_cleared_in_a_handful_of_evaluations():
    result = localize(loss, PROBLEM.params.W[0], GRADIENT)
    assert not result.found and result.wrong == () and result.evaluations <= 6


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_up_to_three_wrong_entries_among_100k_are_found_in_at_most_200_evaluations(k, seed):
    rng = np.random.default_rng(seed)
    flat = rng.choice(GRADIENT.size, size=k, replace=False)
    planted = sorted(tuple(int(i) for i in np.unravel_index(j, GRADIENT.shape)) for j in flat)
    wrong = GRADIENT.copy()
    offsets = rng.uniform(1e-6, 1e-4, size=k) * rng.choice([-1, 1], size=k)
    for index, offset in zip(planted, offsets):
        wrong[index] += offset
    result = localize(loss, PROBLEM.params.W[0], wrong, seed=seed)
    assert sorted(result.wrong) == planted and result.complete
    assert result.evaluations <= 200
    for index, error in zip(result.wrong, result.errors):
        assert error == pytest.approx(wrong[index] - GRADIENT[index], rel=1e-3)


def test_errors_of_equal_size_do_not_cancel_each_other_out():
    wrong = GRADIENT.copy()
    planted = [(3, 7), (20, 5), (500, 100)]
    for index in planted:
        wrong[index] += 5e-5
    assert sorted(localize(loss, PROBLEM.params.W[0], wrong).wrong) == sorted(planted)


def test_a_whole_wrong_column_is_reported_as_structured_without_enumerating_it():
    wrong = GRADIENT.copy()
    wrong[:, 4] *= 2
    result = localize(loss, PROBLEM.params.W[0], wrong, max_entries=5)
    assert result.found and not result.complete and len(result.wrong) == 5


def test_a_gradient_of_the_wrong_shape_is_refused():
    with pytest.raises(InvalidArgument, match=r"g must have the shape of x, \(784, 128\); got \(128, 784\)"):
        localize(loss, PROBLEM.params.W[0], GRADIENT.T)


RELU = Architecture.build((784, 128, 10), hidden="relu")
RELU_PROBLEM = make_problem(RELU, m=64, seed=2)
RELU_GRADIENT = mlp.gradients(RELU, RELU_PROBLEM.params, RELU_PROBLEM.X, RELU_PROBLEM.y).dW[0]


def relu_loss(W1):
    return mlp.loss(RELU, RELU_PROBLEM.params.replace("W1", W1), RELU_PROBLEM.X, RELU_PROBLEM.y)


@pytest.mark.parametrize("k", [0, 1, 3])
def test_on_a_relu_network_the_complex_step_keeps_kinks_from_inventing_wrong_entries(k):
    # Richardson's real steps cross some of the 8,192 ReLU kinks; the complex step never does.
    rng = np.random.default_rng(k)
    flat = rng.choice(RELU_GRADIENT.size, size=k, replace=False)
    wrong = RELU_GRADIENT.copy()
    wrong.flat[flat] *= 1 + 1e-3
    result = localize(relu_loss, RELU_PROBLEM.params.W[0], wrong)
    assert sorted(result.wrong) == sorted(tuple(int(i) for i in np.unravel_index(j, wrong.shape)) for j in flat)
    assert result.complete and result.evaluations <= 200


def test_a_loss_that_refuses_complex_input_falls_back_to_richardson():
    def real_only(W1):
        return loss(np.asarray(W1, dtype=np.float64))  # a ComplexWarning, then the real part only

    wrong = GRADIENT.copy()
    wrong[10, 20] += 1e-4
    result = localize(real_only, PROBLEM.params.W[0], wrong)
    assert result.wrong == ((10, 20),)


def test_an_unknown_method_is_refused_with_the_choices():
    with pytest.raises(InvalidArgument, match="method"):
        localize(loss, PROBLEM.params.W[0], GRADIENT, method="forward")
