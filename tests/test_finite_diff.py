"""Finite differences: accurate to their order, pure, and honest about kinks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradcheck import finite_diff as fd
from reference_mlp import InvalidArgument, activations


def smooth(x):
    return np.sum(np.sin(x) * x**2)


def smooth_gradient(x):
    return np.cos(x) * x**2 + 2 * x * np.sin(x)


def relu_sum(x):
    return np.sum(activations.relu(x) * np.arange(1, x.size + 1).reshape(x.shape))


def relu_pieces(x):
    return activations.relu.piece(x)


X = np.array([[0.3, -1.2, 2.5], [0.7, 1.9, -0.4]])


@pytest.mark.parametrize("method, tol", [("central", 1e-8), ("richardson", 1e-10), ("complex", 1e-15)])
def test_each_method_matches_the_analytic_gradient_of_a_smooth_function(method, tol):
    estimate = fd.gradient(smooth, X, method=method)
    assert estimate.checkable.all()
    np.testing.assert_allclose(estimate.values, smooth_gradient(X), rtol=0, atol=tol)


def test_central_error_shrinks_like_h_squared_and_richardson_faster():
    x = np.array([0.9])
    exact = smooth_gradient(x)[0]
    def err(method, h):
        return abs(fd.gradient(smooth, x, method=method, step=h).values[0] - exact)
    central_ratio = err("central", 1e-2) / err("central", 5e-3)
    richardson_ratio = err("richardson", 4e-2) / err("richardson", 2e-2)
    assert 3.5 < central_ratio < 4.5  # O(h²): halving h divides the error by 4
    assert 14 < richardson_ratio < 18  # O(h⁴): by 16


def test_complex_step_reaches_machine_precision_on_every_smooth_activation():
    x = np.linspace(-3, 3, 13)
    for name in ("sigmoid", "tanh", "softplus", "gelu", "identity"):
        sigma = activations.get(name)
        estimate = fd.gradient(lambda z: np.sum(sigma(z)), x, method="complex")
        np.testing.assert_allclose(estimate.values, sigma.derivative(x), rtol=1e-14, atol=1e-15, err_msg=name)


def test_the_callers_array_is_never_mutated_even_by_a_function_that_scribbles_on_its_argument():
    x = X.copy()
    def vandal(z):
        value = smooth(z)
        z[...] = 0.0
        return value
    for method in fd.METHODS:
        estimate = fd.gradient(vandal, x, method=method)
        np.testing.assert_array_equal(x, X)
        np.testing.assert_allclose(estimate.values, smooth_gradient(X), atol=1e-7)


def test_entries_whose_step_crosses_a_kink_are_not_checkable_with_the_reason():
    x = np.array([1e-9, 0.5, -0.5, 0.0])
    estimate = fd.gradient(relu_sum, x, method="central", region=relu_pieces)
    assert estimate.checkable.tolist() == [False, True, True, False]
    assert np.isnan(estimate.values[[0, 3]]).all()
    assert "kink" in estimate.reason
    assert estimate.not_checkable == 2
    np.testing.assert_allclose(estimate.values[1:3], [2.0, 0.0], atol=1e-9)


def test_complex_step_refuses_only_an_entry_that_sits_on_the_kink():
    x = np.array([1e-9, 0.0, -1e-9])
    estimate = fd.gradient(relu_sum, x, method="complex", region=relu_pieces)
    assert estimate.checkable.tolist() == [True, False, True]
    assert estimate.values[0] == pytest.approx(1.0) and estimate.values[2] == 0.0


@settings(max_examples=60)
@given(
    x=arrays(np.float64, st.integers(1, 12), elements=st.floats(-1e-3, 1e-3, allow_subnormal=False)),
    method=st.sampled_from(fd.METHODS),
)
def test_kink_adjacent_entries_are_never_a_wrong_estimate(x, method):
    estimate = fd.gradient(relu_sum, x, method=method, region=relu_pieces)
    weights = np.arange(1, x.size + 1)
    true = np.where(x > 0, weights, 0.0)
    checked = estimate.checkable
    np.testing.assert_allclose(estimate.values[checked], true[checked], rtol=1e-6, atol=1e-6)
    assert np.isnan(estimate.values[~checked]).all()


def test_a_non_finite_value_at_a_perturbed_point_makes_the_entry_not_checkable():
    x = np.array([1e-7, 2.0])
    with np.errstate(invalid="ignore"):
        estimate = fd.gradient(lambda z: np.sum(np.log(z)), x, method="central")
    assert estimate.checkable.tolist() == [False, True]
    assert "not finite" in estimate.reason
    assert estimate.values[1] == pytest.approx(0.5)


@pytest.mark.parametrize("method, cost", [("central", 2), ("richardson", 4), ("complex", 1)])
def test_a_directional_derivative_costs_a_constant_number_of_evaluations(method, cost):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 30))
    v = rng.standard_normal((40, 30))
    estimate = fd.directional(smooth, x, v, method=method)
    assert estimate.checkable
    assert estimate.evaluations == 1 + cost  # f(x) once, then the stencil
    assert estimate.value == pytest.approx(np.sum(smooth_gradient(x) * v), rel=1e-7)


def test_a_directional_derivative_across_a_kink_is_not_checkable():
    x = np.array([1e-8, 1.0])
    estimate = fd.directional(relu_sum, x, np.array([1.0, 1.0]), method="central", region=relu_pieces)
    assert not estimate.checkable and "kink" in estimate.reason and np.isnan(estimate.value)


def test_complex_step_rejects_a_function_that_drops_the_imaginary_part():
    with pytest.raises(InvalidArgument, match="complex.*method='central'"):
        fd.gradient(lambda z: float(np.sum(z.real)), X, method="complex")
    with pytest.raises(InvalidArgument, match="imaginary part was dropped"):
        fd.gradient(lambda z: np.sum(np.real(z)), X, method="complex")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: fd.gradient(lambda z: z * 2, X), "must return a scalar loss.*shape \\(2, 3\\)"),
        (lambda: fd.gradient(smooth, np.array([1.0, np.nan])), "non-finite.*index \\(1,\\)"),
        (lambda: fd.gradient(smooth, X, method="forward"), "'central', 'richardson', 'complex'.*'forward'"),
        (lambda: fd.gradient("not a function", X), "f must be a function"),
        (lambda: fd.gradient(lambda z: np.inf, X), "f\\(x\\) must be finite"),
        (lambda: fd.gradient(smooth, X, step=-1.0), "step must be a positive"),
        (lambda: fd.directional(smooth, X, np.ones(3)), "shape of x, \\(2, 3\\); got \\(3,\\)"),
        (lambda: fd.directional(smooth, X, np.zeros_like(X)), "nonzero direction"),
        (lambda: fd.gradient(smooth, np.array(["a", "b"])), "must hold numbers"),
    ],
)
def test_bad_input_raises_a_helpful_error(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()


def test_the_step_is_exactly_representable_and_scales_with_the_entry():
    x = np.array([0.1, 3.0, -1e6])
    h = fd.step_size(x, "central")
    assert np.all((x + h) - x == h)
    assert h[2] / h[1] == pytest.approx(1e6 / 3, rel=1e-6)
    assert h[0] == pytest.approx(h[1] / 3, rel=1e-6)  # below |x| = 1 the step no longer shrinks


def test_a_function_that_returns_something_other_than_a_number_is_told_so():
    with pytest.raises(InvalidArgument, match="f must return a number"):
        fd.gradient(lambda z: "loss", X)
    with pytest.raises(InvalidArgument, match="region must return an array"):
        fd.gradient(smooth, X, region=lambda z: [[1], [1, 2]])


def test_richardsons_truncation_is_counted_where_f_curves_sharply_and_a_wrong_slope_still_fails():
    # f(x) = x/√(x² + s) at x near its sharp turn: a normalization over a tiny spread
    s = 1e-3
    f = lambda x: float(np.sum(x / np.sqrt(x * x + s)))
    x = np.array([0.05, -0.03, 0.2])
    exact = s / (x * x + s) ** 1.5
    estimate = fd.gradient(f, x, method="richardson", truncation=True)
    assert np.all(np.abs(estimate.values - exact) <= estimate.error + 1e-8 * np.abs(exact))
    wrong = exact * (1 + 1e-4)
    assert np.all(np.abs(estimate.values - wrong) > estimate.error)
