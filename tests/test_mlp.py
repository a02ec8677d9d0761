"""Specification of the L-layer MLP: architecture, forward pass (Eq. 12) and manual backprop (Eqs. 10, 11, 14, 15)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from reference_mlp import activations, mlp
from reference_mlp.loss import REDUCTIONS, softmax_cross_entropy
from reference_mlp.mlp import Architecture, Params, check_params, gradients, init_params, two_layer_gradients
from reference_mlp.validation import InvalidArgument

STEP = 1e-6
SMOOTH_HIDDEN = ("tanh", "sigmoid")
ALL_ACTIVATIONS = list(activations.NAMES) + ["leaky_relu:0.2"]


def central_difference(f, x: np.ndarray, step: float = STEP) -> np.ndarray:
    """∂f/∂x entry by entry, (f(x + h·e) − f(x − h·e)) / 2h, never touching ``x``."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += step
        minus[index] -= step
        grad[index] = (f(plus) - f(minus)) / (2 * step)
    return grad


def batch(arch: Architecture, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.standard_normal((m, arch.widths[0]))
    y = rng.integers(0, arch.widths[-1], size=m)
    return X, y


@st.composite
def problems(draw, hidden=SMOOTH_HIDDEN, outputs=("identity",)):
    """A small random architecture with smooth σ, its parameters and a batch."""
    depth = draw(st.integers(1, 3))
    widths = tuple(draw(st.lists(st.integers(1, 4), min_size=depth + 1, max_size=depth + 1)))
    hidden_list = draw(st.lists(st.sampled_from(hidden), min_size=depth - 1, max_size=depth - 1))
    bias = draw(st.lists(st.booleans(), min_size=depth, max_size=depth))
    arch = Architecture.build(widths, hidden=hidden_list, output=draw(st.sampled_from(outputs)), bias=bias)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = init_params(arch, rng)
    X, y = batch(arch, draw(st.integers(1, 5)), rng)
    return arch, params, X, y


# Architecture ---------------------------------------------------------------


@pytest.mark.parametrize("widths", [(), (5,)])
def test_an_architecture_needs_an_input_and_an_output_width(widths):
    with pytest.raises(InvalidArgument, match="at least an input and an output width"):
        Architecture.build(widths)


@pytest.mark.parametrize("widths", ["784-10", 784, None])
def test_widths_must_be_a_sequence_of_sizes(widths):
    with pytest.raises(InvalidArgument, match="widths must be a sequence"):
        Architecture.build(widths)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_every_width_must_be_a_positive_integer(bad):
    with pytest.raises(InvalidArgument, match=r"widths\[1\] must be a positive integer"):
        Architecture.build((4, bad, 3))


def test_a_hidden_list_needs_one_activation_per_hidden_layer():
    with pytest.raises(InvalidArgument) as info:
        Architecture.build((4, 5, 6, 3), hidden=["relu"])
    message = str(info.value)
    assert "3 layers have 2 hidden activation(s)" in message and "got 1" in message


def test_bias_flags_must_be_one_per_layer():
    with pytest.raises(InvalidArgument, match="3 layers need 3 bias flags; got 2"):
        Architecture.build((4, 5, 6, 3), bias=[True, False])


@pytest.mark.parametrize("bias", [1, "no"], ids=["int", "str"])
def test_bias_that_is_neither_a_flag_nor_a_list_of_flags_is_rejected(bias):
    # bias="no" on two layers would otherwise be read as the flags ("n", "o") = (True, True).
    with pytest.raises(InvalidArgument, match="bias"):
        Architecture.build((4, 5, 3), bias=bias)


@pytest.mark.parametrize("field", ["hidden", "output"])
def test_an_unknown_activation_in_an_architecture_raises(field):
    with pytest.raises(InvalidArgument, match="unknown activation 'swish'"):
        Architecture.build((4, 5, 3), **{field: "swish"})


def test_build_puts_the_hidden_activation_on_every_layer_but_the_last():
    arch = Architecture.build((4, 5, 6, 3), hidden="tanh", output="sigmoid", bias=(True, False, True))
    assert [a.name for a in arch.activations] == ["tanh", "tanh", "sigmoid"]
    assert arch.bias == (True, False, True)
    assert arch.depth == 3


def test_n_params_counts_weights_and_biases():
    assert Architecture.build((4, 6, 3)).n_params == 4 * 6 + 6 * 3
    assert Architecture.build((4, 6, 3), bias=True).n_params == 4 * 6 + 6 + 6 * 3 + 3
    assert Architecture.build((4, 6, 3), bias=(False, True)).n_params == 4 * 6 + 6 * 3 + 3


@settings(max_examples=30, deadline=None)
@given(problem=problems())
def test_n_params_is_the_number_of_scalars_init_params_draws(problem):
    arch, params, _, _ = problem
    assert arch.n_params == sum(t.size for t in params.tensors().values())


@pytest.mark.parametrize(
    "kwargs, text",
    [
        (dict(widths=(4, 6, 3), hidden="tanh", bias=True), "4-6-3 tanh bias"),
        (dict(widths=(2, 3)), "2-3 linear"),
        (dict(widths=(4, 6, 5, 3), hidden=["relu", "tanh"]), "4-6-5-3 relu/tanh"),
        (dict(widths=(4, 6, 5, 3), hidden="relu"), "4-6-5-3 relu"),
        (dict(widths=(4, 6, 3), hidden="leaky_relu:0.2", output="sigmoid"), "4-6-3 leaky_relu:0.2 out=sigmoid"),
        (dict(widths=(4, 6, 3), bias=(True, False)), "4-6-3 relu bias10"),
    ],
)
def test_describe_gives_widths_activations_and_bias_in_one_line(kwargs, text):
    assert Architecture.build(**kwargs).describe() == text


# Parameters -----------------------------------------------------------------


def test_init_params_draws_one_weight_of_shape_n_i_by_n_i_plus_1_per_layer():
    arch = Architecture.build((4, 6, 3), bias=(True, False))
    params = init_params(arch, np.random.default_rng(0))
    assert [W.shape for W in params.W] == [(4, 6), (6, 3)]
    assert params.b[0].shape == (6,) and params.b[1] is None
    assert list(params.tensors()) == ["W1", "b1", "W2"]


def test_init_params_is_reproducible_from_the_generator_seed():
    arch = Architecture.build((4, 6, 3), bias=True)
    a, b = init_params(arch, np.random.default_rng(3)), init_params(arch, np.random.default_rng(3))
    for name, tensor in a.tensors().items():
        np.testing.assert_array_equal(tensor, b.tensors()[name])


def test_replace_swaps_one_named_tensor_and_keeps_the_rest():
    arch = Architecture.build((2, 3, 2), bias=True)
    params = init_params(arch, np.random.default_rng(0))
    new = params.replace("b2", np.zeros(2))
    np.testing.assert_array_equal(new.b[1], np.zeros(2))
    assert new.W[0] is params.W[0] and new.W[1] is params.W[1] and new.b[0] is params.b[0]


def test_check_params_says_when_a_weight_looks_transposed():
    arch = Architecture.build((3, 5, 2))
    params = init_params(arch, np.random.default_rng(0))
    with pytest.raises(InvalidArgument) as info:
        check_params(arch, params.replace("W1", params.W[0].T))
    message = str(info.value)
    assert "W1 must have shape (n1, n2) = (3, 5); got (5, 3)" in message
    assert "looks transposed" in message


def test_check_params_does_not_call_a_merely_wrong_shape_transposed():
    arch = Architecture.build((3, 5, 2))
    params = init_params(arch, np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match=r"W2 must have shape") as info:
        check_params(arch, params.replace("W2", np.zeros((5, 4))))
    assert "transposed" not in str(info.value)


@pytest.mark.parametrize("shape", [(5, 1), (1, 5), (4,), ()])
def test_check_params_rejects_a_bias_of_the_wrong_shape(shape):
    arch = Architecture.build((3, 5, 2), bias=True)
    params = init_params(arch, np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match=r"b1 must have shape \(5,\)"):
        check_params(arch, params.replace("b1", np.zeros(shape)))


def test_check_params_reports_a_missing_bias():
    arch = Architecture.build((3, 5, 2), bias=True)
    params = init_params(arch, np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match="layer 2 has bias in the architecture, but b2 is missing"):
        check_params(arch, Params(params.W, (params.b[0], None)))


def test_check_params_reports_an_unexpected_bias():
    arch = Architecture.build((3, 5, 2))
    params = init_params(arch, np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match="layer 1 has no bias in the architecture, but b1 is given"):
        check_params(arch, Params(params.W, (np.zeros(5), None)))


def test_check_params_reports_the_wrong_number_of_layers():
    arch = Architecture.build((3, 5, 2))
    params = init_params(arch, np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match="L = 2 layers but params hold 1 weight matrices"):
        check_params(arch, Params(params.W[:1], params.b[:1]))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_bias_is_rejected_by_name(bad):
    # ReLU maps NaN to 0 (NaN > 0 is False), so a NaN bias would otherwise pass silently.
    arch = Architecture.build((3, 5, 2), hidden="relu", bias=True)
    params = init_params(arch, np.random.default_rng(0))
    X, y = batch(arch, 4, np.random.default_rng(1))
    b1 = params.b[0].copy()
    b1[2] = bad
    with pytest.raises(InvalidArgument, match="b1"):
        gradients(arch, params.replace("b1", b1), X, y)


@pytest.mark.parametrize("entry", [gradients, mlp.loss], ids=["gradients", "loss"])
def test_an_X_with_the_wrong_column_count_names_both_shapes(entry):
    arch = Architecture.build((3, 5, 2))
    params = init_params(arch, np.random.default_rng(0))
    with pytest.raises(InvalidArgument) as info:
        entry(arch, params, np.zeros((4, 7)), np.zeros(4, dtype=int))
    message = str(info.value)
    assert "7 columns" in message and "n₁ = 3" in message and "(4, 7)" in message


def test_labels_beyond_the_last_width_are_rejected_before_any_arithmetic():
    arch = Architecture.build((3, 5, 2))
    params = init_params(arch, np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match=r"\[0, 2\)"):
        gradients(arch, params, np.zeros((2, 3)), np.array([0, 2]))


def test_gradients_rejects_an_unknown_reduction_naming_the_choices():
    arch = Architecture.build((3, 2))
    params = init_params(arch, np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match="'mean', 'sum'"):
        gradients(arch, params, np.zeros((2, 3)), np.array([0, 1]), reduction="batchmean")


# Forward pass (Eq. 12) -------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(problem=problems(hidden=("relu", "tanh", "gelu"), outputs=("identity", "sigmoid")))
def test_forward_keeps_Z1_equal_to_X_and_Z_next_equal_to_sigma_of_the_pre_activation(problem):
    arch, params, X, _ = problem
    cache = mlp.forward(arch, params, X)
    assert len(cache.Z) == arch.depth + 1 and len(cache.A) == arch.depth
    np.testing.assert_array_equal(cache.Z[0], X)
    for i, (W, b, sigma) in enumerate(zip(params.W, params.b, arch.activations)):
        A = cache.Z[i] @ W + (0 if b is None else b)
        np.testing.assert_allclose(cache.A[i], A, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cache.Z[i + 1], sigma(A), rtol=1e-12, atol=1e-12)


def test_loss_is_cross_entropy_of_the_last_Z():
    arch = Architecture.build((3, 4, 2), hidden="tanh", bias=True)
    params = init_params(arch, np.random.default_rng(0))
    X, y = batch(arch, 5, np.random.default_rng(1))
    logits = mlp.forward(arch, params, X).Z[-1]
    for reduction in REDUCTIONS:
        assert mlp.loss(arch, params, X, y, reduction) == softmax_cross_entropy(logits, y, reduction)[0]


# Backward pass (Eqs. 14, 15) ---------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=40, deadline=None)
@given(problem=problems(outputs=("identity", "tanh")))
def test_backward_gradients_equal_a_central_difference_of_the_loss(reduction, problem):
    arch, params, X, y = problem
    grads = gradients(arch, params, X, y, reduction)
    for name, tensor in params.tensors().items():
        numeric = central_difference(lambda t: mlp.loss(arch, params.replace(name, t), X, y, reduction), tensor)
        np.testing.assert_allclose(
            grads.tensors()[name], numeric, rtol=1e-5, atol=1e-8,
            err_msg=f"∇{name} of {arch.describe()} ({reduction}) disagrees with central differences",
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=30, deadline=None)
@given(problem=problems())
def test_G1_is_the_gradient_of_the_loss_with_respect_to_X(reduction, problem):
    arch, params, X, y = problem
    G1 = gradients(arch, params, X, y, reduction).G[0]
    numeric = central_difference(lambda Z1: mlp.loss(arch, params, Z1, y, reduction), X)
    np.testing.assert_allclose(G1, numeric, rtol=1e-5, atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(problem=problems())
def test_sum_reduction_gradients_are_m_times_the_mean_ones(problem):
    arch, params, X, y = problem
    mean, total = gradients(arch, params, X, y, "mean"), gradients(arch, params, X, y, "sum")
    np.testing.assert_allclose(total.loss, len(X) * mean.loss, rtol=1e-12)
    for name, tensor in mean.tensors().items():
        np.testing.assert_allclose(total.tensors()[name], len(X) * tensor, rtol=1e-10, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(problem=problems(hidden=("relu", "tanh", "leaky_relu:0.2")))
def test_every_gradient_has_the_shape_of_its_parameter(problem):
    arch, params, X, y = problem
    grads = gradients(arch, params, X, y)
    assert len(grads.dW) == len(grads.db) == arch.depth
    for W, dW in zip(params.W, grads.dW):
        assert dW.shape == W.shape
    for b, db in zip(params.b, grads.db):
        assert (b is None and db is None) or db.shape == b.shape


@settings(max_examples=30, deadline=None)
@given(problem=problems(hidden=("relu", "tanh", "leaky_relu:0.2")))
def test_G_has_one_entry_per_Z_with_the_shape_of_that_Z(problem):
    arch, params, X, y = problem
    grads = gradients(arch, params, X, y)
    cache = mlp.forward(arch, params, X)
    assert len(grads.G) == arch.depth + 1
    for i, (G, Z) in enumerate(zip(grads.G, cache.Z), start=1):
        assert G.shape == Z.shape, f"G{i} has shape {G.shape} but Z{i} has {Z.shape}"


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_G_of_the_last_layer_is_S_minus_I_y(reduction):
    arch = Architecture.build((3, 4, 2), hidden="tanh")
    params = init_params(arch, np.random.default_rng(0))
    X, y = batch(arch, 5, np.random.default_rng(1))
    logits = mlp.forward(arch, params, X).Z[-1]
    np.testing.assert_allclose(gradients(arch, params, X, y, reduction).G[-1], softmax_cross_entropy(logits, y, reduction)[1])


def test_the_loss_reported_with_the_gradients_is_the_loss():
    arch = Architecture.build((3, 4, 2), hidden="sigmoid", bias=True)
    params = init_params(arch, np.random.default_rng(0))
    X, y = batch(arch, 5, np.random.default_rng(1))
    assert gradients(arch, params, X, y, "sum").loss == mlp.loss(arch, params, X, y, "sum")


def test_gradients_never_mutates_its_inputs():
    arch = Architecture.build((3, 4, 4, 2), hidden="sigmoid", bias=True)
    params = init_params(arch, np.random.default_rng(0))
    X, y = batch(arch, 6, np.random.default_rng(1))
    before = {name: t.copy() for name, t in params.tensors().items()}
    X_before, y_before = X.copy(), y.copy()
    gradients(arch, params, X, y, "sum")
    for name, tensor in params.tensors().items():
        np.testing.assert_array_equal(tensor, before[name], err_msg=f"gradients() changed {name}")
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_gradients_accepts_integer_and_list_inputs_as_float():
    arch = Architecture.build((2, 2))
    W = [[1, 0], [0, 1]]
    grads = gradients(arch, Params((W,), (None,)), [[1, 2], [3, 4]], [0, 1])
    want = gradients(arch, Params((np.eye(2),), (None,)), np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0, 1]))
    np.testing.assert_array_equal(grads.dW[0], want.dW[0])


# Two-layer network (Eqs. 10, 11) -----------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_two_layer_gradients_equal_the_general_backprop_without_bias(activation, reduction):
    rng = np.random.default_rng(11)
    arch = Architecture.build((3, 5, 4), hidden=activation)
    params = init_params(arch, rng)
    X, y = batch(arch, 7, rng)
    dW1, dW2 = two_layer_gradients(X, y, *params.W, activation=activation, reduction=reduction)
    grads = gradients(arch, params, X, y, reduction)
    np.testing.assert_allclose(dW1, grads.dW[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dW2, grads.dW[1], rtol=1e-12, atol=1e-15)


def test_eq_11_takes_sigma_prime_at_the_pre_activation_not_the_activation():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((6, 3)) * 2, rng.integers(0, 3, size=6)
    W1, W2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    sigma = activations.sigmoid

    def loss_of_W1(w1):
        return softmax_cross_entropy(sigma(X @ w1) @ W2, y, "sum")[0]

    numeric = central_difference(loss_of_W1, W1)
    dW1, _ = two_layer_gradients(X, y, W1, W2, activation="sigmoid", reduction="sum")
    S_minus_I = softmax_cross_entropy(sigma(X @ W1) @ W2, y, "sum")[1]
    at_the_activation = X.T @ ((S_minus_I @ W2.T) * sigma.derivative(sigma(X @ W1)))

    np.testing.assert_allclose(dW1, numeric, rtol=1e-5, atol=1e-8)
    # The slip must be visible: σ'(σ(XW₁)) is far from σ'(XW₁) for sigmoid.
    assert np.max(np.abs(at_the_activation - numeric)) > 1e-2 * np.max(np.abs(numeric))


def test_eq_10_is_the_hidden_activation_transposed_times_S_minus_I_y():
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, size=5)
    W1, W2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    _, dW2 = two_layer_gradients(X, y, W1, W2, activation="tanh", reduction="sum")
    numeric = central_difference(lambda w2: softmax_cross_entropy(np.tanh(X @ W1) @ w2, y, "sum")[0], W2)
    np.testing.assert_allclose(dW2, numeric, rtol=1e-5, atol=1e-8)


def test_two_layer_gradients_reject_a_W2_that_does_not_chain_onto_W1():
    # n₃ is read from W2 itself, so the message can only name the row count W1 implies.
    with pytest.raises(InvalidArgument, match=r"W2 must have shape \(n2, n3\) = \(4, 4\); got \(2, 4\)"):
        two_layer_gradients(np.zeros((3, 3)), np.zeros(3, dtype=int), np.zeros((3, 4)), np.zeros((2, 4)))


# Kinks ------------------------------------------------------------------------


def test_kink_pieces_change_when_a_relu_pre_activation_crosses_zero():
    arch = Architecture.build((1, 1, 2), hidden="relu")
    X = np.array([[1.0]])
    W2 = np.ones((1, 2))
    above = mlp.kink_pieces(arch, Params((np.array([[1e-3]]), W2), (None, None)), X)
    below = mlp.kink_pieces(arch, Params((np.array([[-1e-3]]), W2), (None, None)), X)
    at = mlp.kink_pieces(arch, Params((np.array([[0.0]]), W2), (None, None)), X)
    assert not np.array_equal(above, below)
    assert not np.array_equal(at, above) and not np.array_equal(at, below)


def test_kink_pieces_stay_the_same_while_no_pre_activation_crosses_zero():
    arch = Architecture.build((3, 6, 2), hidden="relu")
    params = init_params(arch, np.random.default_rng(0))
    X, _ = batch(arch, 5, np.random.default_rng(1))
    nudged = params.replace("W1", params.W[0] * (1 + 1e-9))
    np.testing.assert_array_equal(mlp.kink_pieces(arch, params, X), mlp.kink_pieces(arch, nudged, X))
    assert mlp.kink_pieces(arch, params, X).size == 5 * 6


def test_kink_pieces_of_a_smooth_network_is_empty():
    arch = Architecture.build((3, 6, 2), hidden="tanh")
    params = init_params(arch, np.random.default_rng(0))
    assert mlp.kink_pieces(arch, params, np.ones((2, 3))).size == 0
