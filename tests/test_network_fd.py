"""Finite differences that use the network's structure give what the per-entry loop gives, for a fraction of the passes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import finite_diff, network_fd, strategies
from gradcheck.witnesses import Problem, closed_form, make_problem
from reference_mlp import Architecture, InvalidArgument

NETWORKS = [((5, 7, 3), "relu", False), ((4, 6, 5, 3), "tanh", True), ((3, 4, 2), "leaky_relu:0.2", True),
            ((6, 4), "sigmoid", True)]


def problem_of(widths, hidden, bias, m=6, seed=1) -> Problem:
    return make_problem(Architecture.build(widths, hidden=hidden, bias=bias), m=m, seed=seed)


def near_kink(seed: int = 3) -> Problem:
    """A ReLU network with three first-layer pre-activations within 1e-7 of 0."""
    p = problem_of((6, 5, 3), "relu", False, m=8, seed=seed)
    X, W1 = p.X.copy(), p.params.W[0]
    for row in range(3):
        X[row, -1] -= (X[row] @ W1[:, row] - 1e-7 * (-1) ** row) / W1[-1, row]
    return Problem(p.arch, p.params, X, p.y, p.reduction, p.seed)


@pytest.mark.parametrize("widths, hidden, bias", NETWORKS)
@pytest.mark.parametrize("method", finite_diff.METHODS)
def test_every_entry_matches_the_per_entry_loop(widths, hidden, bias, method):
    p = problem_of(widths, hidden, bias)
    for name, value in p.params.tensors().items():
        fast = network_fd.gradient(p, name, method=method)
        loop = finite_diff.gradient(network_fd.loss_function(p, name), value, method=method,
                                    region=network_fd.region_function(p, name))
        assert fast.values.shape == value.shape
        np.testing.assert_array_equal(fast.checkable, loop.checkable)
        np.testing.assert_allclose(fast.values, loop.values, rtol=1e-6, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(problem=strategies.problems(strategies.architectures(bias=st.booleans()), reduction=st.sampled_from(("mean", "sum"))))
def test_the_complex_step_equals_the_closed_form_on_any_network(problem):
    truth = closed_form(problem)
    for name in problem.params.tensors():
        estimate = network_fd.gradient(problem, name, method="complex")
        assert estimate.checkable.all()
        np.testing.assert_allclose(estimate.values, truth[name], rtol=1e-9, atol=1e-12 * max(1.0, np.abs(truth[name]).max()))


@pytest.mark.parametrize("widths, hidden, bias", NETWORKS)
@pytest.mark.parametrize("method", finite_diff.METHODS)
def test_directional_derivatives_equal_the_gradient_projected(widths, hidden, bias, method):
    p = problem_of(widths, hidden, bias)
    truth = closed_form(p)
    rng = np.random.default_rng(0)
    for name, value in p.params.tensors().items():
        v = rng.standard_normal(value.shape)
        d = network_fd.directional(p, name, v, method=method)
        assert d.checkable
        assert d.value == pytest.approx(np.sum(truth[name] * v), rel=1e-7, abs=1e-10)
        if name.startswith("W"):
            a, b = rng.standard_normal(value.shape[0]), rng.standard_normal(value.shape[1])
            (r,) = network_fd.rank_one(p, name, a, b, method=method)
            assert r.value == pytest.approx(a @ truth[name] @ b, rel=1e-7, abs=1e-10)
            many = network_fd.rank_one(p, name, rng.standard_normal((3, value.shape[0])),
                                       rng.standard_normal((3, value.shape[1])), method=method)
            assert len(many) == 3 and all(d.checkable for d in many)


def test_a_given_loss_saves_the_evaluation_of_f_at_x():
    p = problem_of((5, 7, 3), "relu", False)
    v = np.ones(p.params.W[0].shape)
    assert network_fd.directional(p, "W1", v, method="complex", loss=1.0, on_kink=False).evaluations == 1
    assert network_fd.directional(p, "W1", v, method="richardson").evaluations == 5


def test_near_a_kink_the_complex_step_stays_exact_and_real_steps_say_not_checkable():
    p = near_kink()
    truth = closed_form(p)["W1"]
    exact = network_fd.gradient(p, "W1", method="complex")
    assert exact.checkable.all()
    np.testing.assert_allclose(exact.values, truth, rtol=1e-9, atol=1e-14)
    real = network_fd.gradient(p, "W1", method="richardson")
    assert 0 < real.not_checkable < real.values.size
    assert "kink" in real.reason
    judged = real.checkable
    np.testing.assert_allclose(real.values[judged], truth[judged], rtol=1e-6, atol=1e-9)


def on_kink() -> Problem:
    """A ReLU network whose first pre-activation (XW₁)[0, 0] = W₁[0, 0] − W₁[1, 0] is exactly 0."""
    p = problem_of((4, 3, 2), "relu", False, m=3)
    X, W1 = p.X.copy(), p.params.W[0].copy()
    X[0] = [1.0, -1.0, 0.0, 0.0]
    W1[1, 0] = W1[0, 0]
    return Problem(p.arch, p.params.replace("W1", W1), X, p.y)


def test_a_point_exactly_on_a_kink_is_not_checkable_even_by_the_complex_step():
    p = on_kink()
    v = np.random.default_rng(0).standard_normal((4, 3))
    d = network_fd.directional(p, "W1", v, method="complex")
    assert not d.checkable and "kink" in d.reason
    assert network_fd.directional(p, "W2", np.ones((3, 2)), method="complex").checkable  # W₂ comes after the kink
    estimate = network_fd.gradient(p, "W1", method="complex")
    assert not estimate.checkable[:2, 0].any()  # the entries that move (XW₁)[0, 0]
    assert estimate.checkable[:, 1:].all()


@pytest.mark.parametrize("call, message", [
    (lambda p: network_fd.gradient(p, "W9"), "one of the network's parameters W1, b1, W2, b2"),
    (lambda p: network_fd.gradient(p, "G1"), "one of the network's parameters"),
    (lambda p: network_fd.directional(p, "W1", np.ones(3)), "shape of W1, (5, 7)"),
    (lambda p: network_fd.directional(p, "W1", np.zeros((5, 7))), "all zeros"),
    (lambda p: network_fd.rank_one(p, "W1", np.ones(4), np.ones(7)), "lengths 5 and 7"),
    (lambda p: network_fd.rank_one(p, "W1", np.ones((2, 5)), np.ones((3, 7))), "one row per direction"),
    (lambda p: network_fd.rank_one(p, "b1", np.ones(5), np.ones(7)), "bias vector"),
    (lambda p: network_fd.gradient(p, "W1", method="forward"), "method"),
])
def test_bad_arguments_say_what_was_expected(call, message):
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(problem_of((5, 7, 3), "relu", True))
