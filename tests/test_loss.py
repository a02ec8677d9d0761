"""Specification of softmax cross-entropy ℓ_ce(h, y) and ∇_h ℓ_ce = S − I_y (docs/equations.md, "Loss")."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from reference_mlp.loss import REDUCTIONS, log_softmax, one_hot, softmax, softmax_cross_entropy
from reference_mlp.validation import InvalidArgument

STEP = 1e-6


@st.composite
def batches(draw, *, max_m: int = 6, max_k: int = 5, scale: float = 10.0):
    """Logits h (m×k, float64) and labels y (m,) in [0, k)."""
    m = draw(st.integers(1, max_m))
    k = draw(st.integers(1, max_k))
    h = draw(hnp.arrays(np.float64, (m, k), elements=st.floats(-scale, scale)))
    y = draw(hnp.arrays(np.int64, (m,), elements=st.integers(0, k - 1)))
    return h, y


def reference_loss(h: np.ndarray, y: np.ndarray) -> np.ndarray:
    """−log softmax(h)[j, y_j] per row, written the naive way (fine for small logits)."""
    e = np.exp(h)
    return -np.log(e[np.arange(len(y)), y] / e.sum(axis=1))


def central_difference_gradient(f, h: np.ndarray, step: float = STEP) -> np.ndarray:
    grad = np.zeros_like(h)
    for index in np.ndindex(h.shape):
        plus, minus = h.copy(), h.copy()
        plus[index] += step
        minus[index] -= step
        grad[index] = (f(plus) - f(minus)) / (2 * step)
    return grad


# values and gradients --------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(batch=batches())
def test_the_sum_gradient_is_S_minus_I_y(batch):
    h, y = batch
    _, grad = softmax_cross_entropy(h, y, "sum")
    S = np.exp(h - h.max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    I_y = np.eye(h.shape[1])[y]
    np.testing.assert_allclose(grad, S - I_y, rtol=1e-10, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(batch=batches())
def test_the_mean_gradient_is_S_minus_I_y_over_m(batch):
    h, y = batch
    _, grad_sum = softmax_cross_entropy(h, y, "sum")
    _, grad_mean = softmax_cross_entropy(h, y, "mean")
    np.testing.assert_allclose(grad_mean, grad_sum / len(y), rtol=1e-12, atol=1e-15)


@settings(max_examples=50, deadline=None)
@given(batch=batches())
def test_sum_reduction_is_m_times_the_mean(batch):
    h, y = batch
    loss_sum, _ = softmax_cross_entropy(h, y, "sum")
    loss_mean, _ = softmax_cross_entropy(h, y, "mean")
    np.testing.assert_allclose(loss_sum, len(y) * loss_mean, rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(batch=batches())
def test_the_loss_is_the_negative_log_probability_of_the_true_class(batch):
    h, y = batch
    loss_sum, _ = softmax_cross_entropy(h, y, "sum")
    np.testing.assert_allclose(loss_sum, reference_loss(h, y).sum(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=25, deadline=None)
@given(batch=batches(max_m=4, max_k=4, scale=5.0))
def test_the_gradient_matches_a_central_difference_of_the_loss(reduction, batch):
    h, y = batch
    _, grad = softmax_cross_entropy(h, y, reduction)
    numeric = central_difference_gradient(lambda z: softmax_cross_entropy(z, y, reduction)[0], h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@settings(max_examples=50, deadline=None)
@given(h=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=st.floats(-50, 50)))
def test_softmax_rows_are_probabilities_that_sum_to_one(h):
    S = softmax(h)
    assert np.all(S >= 0) and np.all(S <= 1)
    np.testing.assert_allclose(S.sum(axis=1), 1.0, rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    h=hnp.arrays(np.float64, (3, 4), elements=st.floats(-20, 20)),
    shift=hnp.arrays(np.float64, (3, 1), elements=st.floats(-1e3, 1e3)),
)
def test_softmax_ignores_a_constant_added_to_each_row(h, shift):
    np.testing.assert_allclose(softmax(h + shift), softmax(h), rtol=1e-9, atol=1e-12)


def test_log_softmax_equals_the_log_of_softmax_for_moderate_logits():
    h = np.array([[0.0, 1.0, 2.0], [-3.0, 0.5, 0.25]])
    np.testing.assert_allclose(log_softmax(h), np.log(softmax(h)), rtol=1e-12)


def test_one_hot_puts_a_single_one_in_column_y():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("size", [1e3, 1e4, 1e5])
def test_logits_of_size_1e4_give_a_finite_loss_and_gradient(reduction, size):
    h = np.array([[size, -size, 0.0], [-size, size, size / 2]])
    y = np.array([1, 1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = softmax_cross_entropy(h, y, reduction)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    # Row 0 puts its mass on the wrong class by a margin of 2·size; row 1 is right.
    expected = 2 * size if reduction == "sum" else size
    np.testing.assert_allclose(loss, expected, rtol=1e-12)


def test_a_perfectly_confident_right_answer_costs_nothing():
    loss, grad = softmax_cross_entropy(np.array([[1e4, 0.0]]), np.array([0]), "sum")
    assert loss == 0.0
    np.testing.assert_array_equal(grad, [[0.0, 0.0]])


def test_complex_logits_are_accepted_for_the_complex_step():
    h = np.array([[0.3, -0.2, 1.0]])
    y = np.array([2])
    loss, grad = softmax_cross_entropy(h + 1e-20j * np.array([[1.0, 0.0, 0.0]]), y, "sum")
    np.testing.assert_allclose(np.imag(loss) / 1e-20, softmax_cross_entropy(h, y, "sum")[1][0, 0], rtol=1e-12)


# labels ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.int64, np.uint64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_labels_of_every_integer_dtype_give_identical_results(dtype, reduction):
    rng = np.random.default_rng(7)
    h = rng.standard_normal((6, 4))
    y = np.array([0, 3, 1, 2, 3, 0])
    want_loss, want_grad = softmax_cross_entropy(h, y.astype(np.intp), reduction)
    loss, grad = softmax_cross_entropy(h, y.astype(dtype), reduction)
    assert loss == want_loss
    np.testing.assert_array_equal(grad, want_grad)


def test_labels_out_of_range_name_the_class_count_and_the_values_seen():
    with pytest.raises(InvalidArgument) as info:
        softmax_cross_entropy(np.zeros((3, 4)), np.array([0, 4, 1]))
    message = str(info.value)
    assert "[0, 4)" in message and "4 classes" in message
    assert "from 0 to 4" in message


def test_negative_labels_are_out_of_range():
    with pytest.raises(InvalidArgument, match=r"from -1 to 1"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([-1, 1]))


def test_uint8_labels_just_below_the_wrap_around_are_out_of_range():
    # 255 in uint8 is not −1; it must be reported as 255, not wrapped.
    with pytest.raises(InvalidArgument, match="255"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 255], dtype=np.uint8))


def test_whole_number_float_labels_are_rejected_with_an_astype_hint():
    with pytest.raises(InvalidArgument) as info:
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 2.0]))
    message = str(info.value)
    assert "integer class labels" in message and "float64" in message
    assert "astype(int)" in message


def test_fractional_float_labels_are_told_labels_are_class_indices():
    with pytest.raises(InvalidArgument, match="class indices") as info:
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.2, 0.8]))
    assert "astype(int)" not in str(info.value)


def test_two_dimensional_integer_labels_are_told_to_take_the_argmax():
    with pytest.raises(InvalidArgument) as info:
        softmax_cross_entropy(np.zeros((2, 3)), np.array([[0, 1, 0], [1, 0, 0]]))
    message = str(info.value)
    assert "1-D" in message and "(2, 3)" in message
    assert "argmax(axis=1)" in message


def test_one_hot_float_labels_are_told_to_take_the_argmax():
    # The commonest 2-D label mistake is a float one-hot matrix (np.eye(k)[y]). Following
    # the advice "pass y.astype(int)" only leads to a second error, so the hint must be argmax.
    with pytest.raises(InvalidArgument) as info:
        softmax_cross_entropy(np.zeros((2, 3)), np.eye(3)[[1, 0]])
    assert "argmax(axis=1)" in str(info.value)


def test_a_wrong_number_of_labels_names_both_counts():
    with pytest.raises(InvalidArgument) as info:
        softmax_cross_entropy(np.zeros((4, 3)), np.array([0, 1, 2]))
    message = str(info.value)
    assert "3 labels" in message and "4 rows" in message


# logits and reduction ---------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_logits_are_rejected_with_the_first_bad_index(bad):
    h = np.zeros((3, 2))
    h[1, 0] = bad
    with pytest.raises(InvalidArgument) as info:
        softmax_cross_entropy(h, np.array([0, 1, 0]))
    message = str(info.value)
    assert "non-finite" in message and "(1, 0)" in message


def test_one_dimensional_logits_are_rejected_with_a_reshape_hint():
    with pytest.raises(InvalidArgument, match="2-D") as info:
        softmax_cross_entropy(np.zeros(3), np.array([0, 1, 0]))
    assert "reshape" in str(info.value)


def test_an_unknown_reduction_names_the_choices():
    with pytest.raises(InvalidArgument) as info:
        softmax_cross_entropy(np.zeros((2, 2)), np.array([0, 1]), reduction="avg")
    message = str(info.value)
    assert "'avg'" in message
    for choice in REDUCTIONS:
        assert repr(choice) in message


def test_the_loss_does_not_mutate_its_inputs():
    h = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([1, 0])
    h_before, y_before = h.copy(), y.copy()
    softmax_cross_entropy(h, y, "sum")
    np.testing.assert_array_equal(h, h_before)
    np.testing.assert_array_equal(y, y_before)
