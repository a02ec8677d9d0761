"""Specification of the activations σ and their derivatives σ' (docs/equations.md, Eqs. 2, 12–15)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from reference_mlp import activations
from reference_mlp.activations import Activation
from reference_mlp.validation import InvalidArgument

STEP = 1e-6
COMPLEX_STEP = 1e-20

ALL = [activations.get(name) for name in activations.NAMES] + [activations.leaky_relu(0.2)]
SMOOTH = [a for a in ALL if not a.kinks]
KINKED = [a for a in ALL if a.kinks]


def central_difference(f, x: np.ndarray, step: float = STEP) -> np.ndarray:
    """(f(x + h) − f(x − h)) / 2h, elementwise, in float64."""
    x = np.asarray(x, dtype=np.float64)
    return (f(x + step) - f(x - step)) / (2 * step)


def points(*, away_from: tuple[float, ...] = (), margin: float = 1e-3):
    """Small float64 vectors in [−6, 6] that keep ``margin`` away from every kink."""
    value = st.floats(-6.0, 6.0, allow_nan=False, allow_infinity=False).filter(
        lambda v: all(abs(v - k) > margin for k in away_from)
    )
    return st.lists(value, min_size=1, max_size=8).map(lambda xs: np.array(xs, dtype=np.float64))


def by_label(activation: Activation) -> str:
    return activation.label


# σ' agrees with the slope of σ ----------------------------------------------


@pytest.mark.parametrize("sigma", ALL, ids=by_label)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_sigma_prime_matches_a_central_difference_of_sigma_away_from_kinks(sigma, data):
    x = data.draw(points(away_from=sigma.kinks))
    np.testing.assert_allclose(
        sigma.derivative(x), central_difference(sigma, x), rtol=1e-6, atol=1e-8,
        err_msg=f"σ' of {sigma.label} disagrees with the slope of σ",
    )


@pytest.mark.parametrize("sigma", ALL, ids=by_label)
def test_sigma_prime_has_the_shape_of_its_input(sigma):
    a = np.linspace(-2, 2, 12).reshape(3, 4)
    assert np.shape(sigma.derivative(a)) == a.shape
    assert np.shape(sigma(a)) == a.shape


def test_sigma_prime_of_sigmoid_is_taken_at_the_pre_activation():
    # σ'(a) = σ(a)(1 − σ(a)); feeding the activation σ(a) back in is the classic slip.
    a = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    s = 1.0 / (1.0 + np.exp(-a))
    np.testing.assert_allclose(activations.sigmoid.derivative(a), s * (1 - s), rtol=1e-12)
    assert not np.allclose(activations.sigmoid.derivative(a), activations.sigmoid.derivative(s))


def test_sigma_prime_of_softplus_is_the_sigmoid():
    a = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(activations.softplus.derivative(a), 1 / (1 + np.exp(-a)), rtol=1e-12)


# kinks and pieces -------------------------------------------------------------


def test_exactly_relu_and_leaky_relu_are_kinked():
    assert sorted(a.label for a in KINKED) == ["leaky_relu:0.01", "leaky_relu:0.2", "relu"]


@pytest.mark.parametrize("sigma", KINKED, ids=by_label)
def test_relu_and_leaky_relu_have_a_single_kink_at_zero(sigma):
    assert sigma.kinks == (0.0,)


@pytest.mark.parametrize("name", ["identity", "sigmoid", "tanh", "softplus", "gelu"])
def test_smooth_activations_have_no_kinks(name):
    assert activations.get(name).kinks == ()


@pytest.mark.parametrize("sigma", SMOOTH, ids=by_label)
def test_a_smooth_activation_puts_every_point_on_one_piece(sigma):
    a = np.array([-1e3, -1.0, 0.0, 1.0, 1e3])
    assert np.all(sigma.piece(a) == sigma.piece(a)[0])


@pytest.mark.parametrize("sigma", KINKED, ids=by_label)
@settings(max_examples=30, deadline=None)
@given(
    left=st.floats(-1e6, 0.0, exclude_max=True, allow_nan=False),
    right=st.floats(0.0, 1e6, exclude_min=True, allow_nan=False),
)
def test_piece_separates_points_on_opposite_sides_of_a_kink(sigma, left, right):
    pieces = sigma.piece(np.array([left, 0.0, right]))
    assert len(set(pieces.tolist())) == 3, f"left, kink and right must be three pieces; got {pieces}"


@pytest.mark.parametrize("sigma", KINKED, ids=by_label)
@settings(max_examples=30, deadline=None)
@given(a=st.floats(1e-9, 1e6), b=st.floats(1e-9, 1e6))
def test_piece_keeps_points_on_the_same_side_of_a_kink_together(sigma, a, b):
    assert sigma.piece(np.array([a]))[0] == sigma.piece(np.array([b]))[0]
    assert sigma.piece(np.array([-a]))[0] == sigma.piece(np.array([-b]))[0]


@pytest.mark.parametrize("sigma", KINKED, ids=by_label)
def test_the_kink_itself_gets_its_own_odd_numbered_piece(sigma):
    below, at, above = sigma.piece(np.array([-1e-300, 0.0, 1e-300]))
    assert at % 2 == 1
    assert below != at != above


def test_piece_looks_at_the_real_part_of_complex_input():
    a = np.array([-1.0 + 1e-20j, 1.0 + 1e-20j])
    np.testing.assert_array_equal(activations.relu.piece(a), activations.relu.piece(a.real))


# numerical safety ------------------------------------------------------------


@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
@pytest.mark.parametrize("a", [-1e4, -710.0, 710.0, 1e4])
def test_sigmoid_and_softplus_never_overflow_or_warn_for_large_inputs(name, a):
    sigma = activations.get(name)
    x = np.array([a])
    # Underflow to 0 is the right answer for e^{-10⁴}; overflow, 0/0 and log 0 are not.
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        value, slope = sigma(x), sigma.derivative(x)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(slope))


def test_sigmoid_saturates_to_exactly_zero_and_one():
    np.testing.assert_array_equal(activations.sigmoid(np.array([-1e4, 1e4])), [0.0, 1.0])


def test_softplus_is_the_identity_far_right_and_zero_far_left():
    np.testing.assert_allclose(activations.softplus(np.array([1e4, -1e4])), [1e4, 0.0], atol=0)


# complex step ----------------------------------------------------------------


@pytest.mark.parametrize("sigma", ALL, ids=by_label)
def test_every_sigma_accepts_complex_input(sigma):
    z = np.array([-1.5 + 0.25j, 0.5 - 0.5j])
    out = sigma(z)
    assert np.iscomplexobj(out)
    assert out.shape == z.shape and np.all(np.isfinite(out))


@pytest.mark.parametrize("sigma", ALL, ids=by_label)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_the_complex_step_of_sigma_equals_sigma_prime(sigma, data):
    # Im σ(x + ih)/h = σ'(x) + O(h²) with no cancellation, so h = 1e-20 is exact to rounding.
    x = data.draw(points(away_from=sigma.kinks))
    witness = np.imag(sigma(x + 1j * COMPLEX_STEP)) / COMPLEX_STEP
    np.testing.assert_allclose(witness, sigma.derivative(x), rtol=1e-12, atol=1e-14)


# lookup by name --------------------------------------------------------------


def test_get_reads_the_slope_of_leaky_relu_after_the_colon():
    sigma = activations.get("leaky_relu:0.3")
    assert sigma.slope == 0.3
    np.testing.assert_allclose(sigma(np.array([-2.0, 2.0])), [-0.6, 2.0])


def test_the_label_of_leaky_relu_round_trips_through_get():
    sigma = activations.leaky_relu(0.2)
    assert sigma.label == "leaky_relu:0.2"
    assert activations.get(sigma.label) == sigma


@pytest.mark.parametrize("name", activations.NAMES)
def test_get_finds_every_listed_name(name):
    assert activations.get(name).name == name


def test_get_passes_an_activation_through_unchanged():
    assert activations.get(activations.tanh) is activations.tanh


def test_an_unknown_name_raises_and_lists_the_known_names():
    with pytest.raises(InvalidArgument) as info:
        activations.get("nope")
    message = str(info.value)
    assert "'nope'" in message
    for name in activations.NAMES:
        assert name in message


def test_a_non_string_activation_raises_and_lists_the_known_names():
    with pytest.raises(InvalidArgument, match="relu") as info:
        activations.get(3)
    assert "int" in str(info.value)


@pytest.mark.parametrize("spec", ["leaky_relu:0", "leaky_relu:-0.1", "leaky_relu:abc", "leaky_relu:nan", "leaky_relu:inf"])
def test_a_bad_leaky_relu_slope_in_a_name_raises(spec):
    with pytest.raises(InvalidArgument, match="slope"):
        activations.get(spec)


@pytest.mark.parametrize("slope", [0, -0.5, float("nan"), float("inf"), "x"])
def test_a_bad_leaky_relu_slope_raises(slope):
    with pytest.raises(InvalidArgument, match="slope"):
        activations.leaky_relu(slope)


def test_only_leaky_relu_takes_an_argument_after_the_colon():
    with pytest.raises(InvalidArgument, match="unknown activation"):
        activations.get("relu:0.1")
