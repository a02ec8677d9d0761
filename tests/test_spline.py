"""Specification of the 1-D universal approximation construction (Eqs. 6 and 7)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from reference_mlp import relu_spline
from reference_mlp.mlp import forward
from reference_mlp.spline import max_error
from reference_mlp.validation import InvalidArgument

TWO_PI = 2 * np.pi

FUNCTIONS = {
    "sin": np.sin,
    "cubic": lambda x: x**3 - 2 * x,
    "exp": np.exp,
    "abs": np.abs,
    "constant": lambda x: np.full_like(x, 3.5),
}


def functions():
    return st.sampled_from(sorted(FUNCTIONS)).map(FUNCTIONS.__getitem__)


def intervals():
    return st.tuples(st.floats(-3, 3), st.floats(0.1, 4)).map(lambda t: (t[0], t[0] + t[1]))


@settings(max_examples=50, deadline=None)
@given(f=functions(), interval=intervals(), samples=st.integers(2, 30))
def test_the_spline_passes_through_every_sample(f, interval, samples):
    lo, hi = interval
    spline = relu_spline(f, lo, hi, samples)
    np.testing.assert_allclose(spline.knots, np.linspace(lo, hi, samples))
    scale = 1 + np.max(np.abs(f(spline.knots)))
    np.testing.assert_allclose(spline(spline.knots), f(spline.knots), rtol=0, atol=1e-12 * scale * samples)


@settings(max_examples=50, deadline=None)
@given(f=functions(), interval=intervals(), samples=st.integers(2, 20))
def test_the_spline_is_the_linear_interpolant_between_samples(f, interval, samples):
    lo, hi = interval
    spline = relu_spline(f, lo, hi, samples)
    x = np.linspace(lo, hi, 257)
    want = np.interp(x, spline.knots, f(spline.knots))
    scale = 1 + np.max(np.abs(f(spline.knots)))
    np.testing.assert_allclose(spline(x), want, rtol=0, atol=1e-11 * scale * samples)


def test_the_error_on_sin_shrinks_more_than_tenfold_from_10_to_40_samples():
    # Linear interpolation error is ≤ h²/8·max|f''|, so 4× the samples gives about 16× less.
    coarse = max_error(np.sin, relu_spline(np.sin, 0, TWO_PI, 10), 0, TWO_PI)
    fine = max_error(np.sin, relu_spline(np.sin, 0, TWO_PI, 40), 0, TWO_PI)
    assert fine < coarse / 10, (coarse, fine)


@pytest.mark.parametrize("samples", [5, 10, 20, 40, 80])
def test_the_error_on_sin_is_within_the_interpolation_bound(samples):
    h = TWO_PI / (samples - 1)
    error = max_error(np.sin, relu_spline(np.sin, 0, TWO_PI, samples), 0, TWO_PI)
    assert error <= h**2 / 8 + 1e-12
    assert error > h**2 / 8 / 4, "the bound is nearly attained for sin; a far smaller error means max_error misreads"


def test_max_error_is_exactly_zero_for_a_function_the_spline_reproduces():
    line = lambda x: 2 * x - 1  # noqa: E731
    assert max_error(line, relu_spline(line, -1, 1, 3), -1, 1) < 1e-12


def test_max_error_finds_the_largest_gap_on_the_grid():
    assert max_error(np.zeros_like, lambda x: x**2, -1, 2, points=31) == pytest.approx(4.0)


@settings(max_examples=50, deadline=None)
@given(f=functions(), interval=intervals(), samples=st.integers(2, 30))
def test_the_eq_7_form_has_signs_of_exactly_plus_or_minus_one(f, interval, samples):
    spline = relu_spline(f, *interval, samples)
    assert set(np.unique(spline.signs).tolist()) <= {-1.0, 1.0}


@settings(max_examples=50, deadline=None)
@given(f=functions(), interval=intervals(), samples=st.integers(2, 30))
def test_the_eq_7_sum_of_signed_relu_units_is_the_spline(f, interval, samples):
    spline = relu_spline(f, *interval, samples)
    x = np.linspace(*interval, 33)
    eq7 = sum(s * np.maximum(0.0, w * x + b) for s, w, b in zip(spline.signs, spline.w, spline.b))
    np.testing.assert_allclose(spline(x), eq7, rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(f=functions(), interval=intervals(), samples=st.integers(2, 30))
def test_the_hidden_width_equals_the_number_of_samples(f, interval, samples):
    spline = relu_spline(f, *interval, samples)
    assert spline.width == samples
    assert spline.w.shape == spline.b.shape == spline.signs.shape == (samples,)


@settings(max_examples=50, deadline=None)
@given(f=functions(), interval=intervals(), samples=st.integers(2, 30))
def test_as_mlp_output_equals_direct_evaluation(f, interval, samples):
    spline = relu_spline(f, *interval, samples)
    x = np.linspace(*interval, 41)
    np.testing.assert_allclose(spline.as_mlp_output(x), spline(x), rtol=1e-12, atol=1e-12)


def test_as_mlp_is_a_one_hidden_layer_relu_network_of_width_d():
    spline = relu_spline(np.sin, 0, TWO_PI, 12)
    arch, params = spline.as_mlp()
    assert arch.widths == (1, 12, 1)
    assert [a.name for a in arch.activations] == ["relu", "identity"]
    assert arch.bias == (True, False)
    x = np.array([[0.3], [2.0]])
    np.testing.assert_allclose(forward(arch, params, x).Z[-1][:, 0], spline(x[:, 0]), rtol=1e-12)


# bad inputs -----------------------------------------------------------------


@pytest.mark.parametrize("samples", [1, 0, -2])
def test_fewer_than_two_samples_raise(samples):
    with pytest.raises(InvalidArgument, match="samples"):
        relu_spline(np.sin, 0, 1, samples)


@pytest.mark.parametrize("lo, hi", [(1, 1), (2, 1), (0, np.inf), (np.nan, 1)])
def test_an_interval_without_finite_lo_below_hi_raises(lo, hi):
    with pytest.raises(InvalidArgument, match=r"lo < hi"):
        relu_spline(np.sin, lo, hi, 5)


def test_a_non_numeric_interval_bound_raises():
    with pytest.raises(InvalidArgument, match="lo"):
        relu_spline(np.sin, "zero", 1, 5)


@pytest.mark.parametrize("f", [None, 3.0, "sin"])
def test_a_non_callable_f_raises(f):
    with pytest.raises(InvalidArgument, match="f must be a function"):
        relu_spline(f, 0, 1, 5)


@pytest.mark.parametrize(
    "f, got",
    [
        (lambda x: 1.0, r"\(\)"),
        (lambda x: x[:-1], r"\(4,\)"),
        (lambda x: np.stack([x, x]), r"\(2, 5\)"),
    ],
    ids=["scalar", "shorter", "2-D"],
)
def test_an_f_that_changes_the_shape_raises_naming_both_shapes(f, got):
    with pytest.raises(InvalidArgument, match=r"shape \(5,\).*" + got):
        relu_spline(f, 0, 1, 5)


def test_an_f_returning_non_finite_values_raises():
    with pytest.raises(InvalidArgument, match="non-finite"):
        relu_spline(lambda x: np.where(x > 0.5, np.nan, x), 0, 1, 5)
