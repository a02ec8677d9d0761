"""Specification of minibatch SGD, training and the synthetic spirals set."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from reference_mlp import mlp
from reference_mlp.data import spirals
from reference_mlp.mlp import Architecture, Params, init_params
from reference_mlp.train import History, accuracy, sgd_epoch, sgd_step, train
from reference_mlp.validation import InvalidArgument


def small_problem(m: int = 10, bias: bool = True, seed: int = 0):
    arch = Architecture.build((2, 5, 3), hidden="tanh", bias=bias)
    rng = np.random.default_rng(seed)
    params = init_params(arch, rng)
    X = rng.standard_normal((m, 2))
    y = rng.integers(0, 3, size=m).astype(np.uint8)
    return arch, params, X, y


def snapshot(params: Params) -> dict[str, np.ndarray]:
    return {name: tensor.copy() for name, tensor in params.tensors().items()}


def assert_same_params(actual: Params, expected: Params, **tolerance) -> None:
    __tracebackhide__ = True
    assert list(actual.tensors()) == list(expected.tensors())
    for name, tensor in expected.tensors().items():
        np.testing.assert_allclose(actual.tensors()[name], tensor, err_msg=name, **tolerance)


# training --------------------------------------------------------------------


@pytest.fixture(scope="module")
def spiral_run() -> History:
    X, y = spirals()
    arch = Architecture.build((2, 32, 3), hidden="tanh", bias=True)
    return train(arch, X, y, epochs=30, lr=1.0, batch=20, seed=0)


def test_training_a_hidden_layer_on_spirals_cuts_the_loss_below_sixty_percent(spiral_run):
    assert spiral_run.losses[-1] < 0.6 * spiral_run.losses[0], spiral_run.losses


def test_training_a_hidden_layer_on_spirals_raises_the_accuracy(spiral_run):
    assert spiral_run.accuracies[-1] > spiral_run.accuracies[0] + 0.2, spiral_run.accuracies
    assert spiral_run.accuracies[-1] > 0.9


def test_history_records_the_state_before_each_epoch_and_at_the_end(spiral_run):
    assert len(spiral_run.losses) == len(spiral_run.accuracies) == 30 + 1
    X, y = spirals()
    arch = Architecture.build((2, 32, 3), hidden="tanh", bias=True)
    assert spiral_run.losses[-1] == pytest.approx(mlp.loss(arch, spiral_run.params, X, y), rel=1e-12)
    assert spiral_run.accuracies[-1] == accuracy(arch, spiral_run.params, X, y)


def test_training_is_reproducible_for_a_fixed_seed():
    X, y = spirals(n_per_class=20)
    arch = Architecture.build((2, 8, 3), hidden="relu", bias=True)
    a = train(arch, X, y, epochs=3, lr=0.5, batch=16, seed=4)
    b = train(arch, X, y, epochs=3, lr=0.5, batch=16, seed=4)
    assert a.losses == b.losses
    assert_same_params(a.params, b.params, rtol=0, atol=0)


def test_accuracy_is_the_fraction_of_rows_whose_largest_logit_is_the_label():
    arch = Architecture.build((2, 2))
    params = Params((np.eye(2),), (None,))
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    assert accuracy(arch, params, X, np.array([0, 1, 1, 0])) == 0.5


@pytest.mark.parametrize("epochs", [0, -1, 1.5])
def test_train_rejects_a_bad_epoch_count(epochs):
    X, y = spirals(n_per_class=5)
    with pytest.raises(InvalidArgument, match="epochs"):
        train(Architecture.build((2, 3)), X, y, epochs=epochs)


# sgd_step ---------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_sgd_step_moves_every_parameter_by_minus_lr_times_its_gradient(reduction):
    arch, params, X, y = small_problem()
    grads = mlp.gradients(arch, params, X, y, reduction)
    new = sgd_step(arch, params, X, y, 0.3, reduction)
    for name, tensor in params.tensors().items():
        np.testing.assert_allclose(new.tensors()[name], tensor - 0.3 * grads.tensors()[name], rtol=1e-14, atol=1e-15)


def test_sgd_step_does_not_mutate_the_params_it_receives():
    arch, params, X, y = small_problem()
    before = snapshot(params)
    sgd_step(arch, params, X, y, 0.5)
    for name, tensor in params.tensors().items():
        np.testing.assert_array_equal(tensor, before[name], err_msg=name)


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), "fast"])
def test_sgd_step_rejects_a_bad_learning_rate(lr):
    # A negative rate would silently run gradient ascent.
    arch, params, X, y = small_problem()
    with pytest.raises(InvalidArgument, match="lr"):
        sgd_step(arch, params, X, y, lr)


# sgd_epoch --------------------------------------------------------------------


def test_sgd_epoch_does_not_mutate_the_params_it_receives():
    arch, params, X, y = small_problem(m=13)
    before = snapshot(params)
    X_before, y_before = X.copy(), y.copy()
    sgd_epoch(arch, params, X, y, lr=0.5, batch=4)
    for name, tensor in params.tensors().items():
        np.testing.assert_array_equal(tensor, before[name], err_msg=name)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("batch", [10, 11, 1000])
def test_sgd_epoch_with_a_batch_of_at_least_m_is_one_sgd_step(batch, reduction):
    arch, params, X, y = small_problem(m=10)
    assert_same_params(
        sgd_epoch(arch, params, X, y, lr=0.2, batch=batch, reduction=reduction),
        sgd_step(arch, params, X, y, 0.2, reduction),
        rtol=0, atol=0,
    )


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 23), batch=st.integers(1, 9), bias=st.booleans(), reduction=st.sampled_from(["mean", "sum"]))
def test_sgd_epoch_is_sgd_step_chained_over_consecutive_batches_including_a_partial_last_one(m, batch, bias, reduction):
    arch, params, X, y = small_problem(m=m, bias=bias)
    expected = params
    for start in range(0, m, batch):
        expected = sgd_step(arch, expected, X[start : start + batch], y[start : start + batch], 0.1, reduction)
    assert_same_params(sgd_epoch(arch, params, X, y, lr=0.1, batch=batch, reduction=reduction), expected, rtol=0, atol=0)


def test_sgd_epoch_uses_the_partial_last_batch():
    # m = 7, batch = 3: the last row forms a batch of its own; dropping it must change the result.
    arch, params, X, y = small_problem(m=7)
    full = sgd_epoch(arch, params, X, y, lr=0.5, batch=3)
    without_last = sgd_epoch(arch, params, X[:6], y[:6], lr=0.5, batch=3)
    after_last = sgd_step(arch, without_last, X[6:], y[6:], 0.5)
    assert_same_params(full, after_last, rtol=0, atol=0)
    assert not np.allclose(full.W[0], without_last.W[0])


@pytest.mark.parametrize("lr", [0, -0.1, float("inf"), float("nan"), "x", None])
def test_sgd_epoch_rejects_a_bad_learning_rate(lr):
    arch, params, X, y = small_problem()
    with pytest.raises(InvalidArgument, match="lr must be a positive"):
        sgd_epoch(arch, params, X, y, lr=lr)


@pytest.mark.parametrize("batch", [0, -5, 2.5, True, "10"])
def test_sgd_epoch_rejects_a_bad_batch_size(batch):
    arch, params, X, y = small_problem()
    with pytest.raises(InvalidArgument, match="batch must be a positive integer"):
        sgd_epoch(arch, params, X, y, batch=batch)


def test_sgd_epoch_rejects_an_unknown_reduction():
    arch, params, X, y = small_problem()
    with pytest.raises(InvalidArgument, match="'mean', 'sum'"):
        sgd_epoch(arch, params, X, y, reduction="none")


@pytest.mark.parametrize("bad", [dict(lr=-1.0), dict(batch=0)])
def test_train_rejects_a_bad_learning_rate_or_batch(bad):
    X, y = spirals(n_per_class=5)
    with pytest.raises(InvalidArgument, match="lr|batch"):
        train(Architecture.build((2, 3)), X, y, epochs=1, **bad)


# spirals ----------------------------------------------------------------------


def test_spirals_is_reproducible_for_a_fixed_seed():
    X1, y1 = spirals(seed=3)
    X2, y2 = spirals(seed=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_spirals_differs_between_seeds():
    assert not np.array_equal(spirals(seed=0)[0], spirals(seed=1)[0])


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 30), classes=st.integers(1, 6))
def test_spirals_gives_n_per_class_uint8_labels_for_each_class_and_float64_points(n, classes):
    X, y = spirals(n_per_class=n, classes=classes)
    assert X.shape == (n * classes, 2) and X.dtype == np.float64
    assert y.shape == (n * classes,) and y.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y, minlength=classes), [n] * classes)


def test_spirals_labels_train_directly_without_conversion():
    X, y = spirals(n_per_class=4)
    arch = Architecture.build((2, 3))
    params = init_params(arch, np.random.default_rng(0))
    grads = mlp.gradients(arch, params, X, y)
    np.testing.assert_array_equal(grads.dW[0], mlp.gradients(arch, params, X, y.astype(np.int64)).dW[0])


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(n_per_class=0), "n_per_class"),
        (dict(classes=0), "classes"),
        (dict(classes=256), "255"),
        (dict(noise=-0.1), "noise"),
        (dict(noise=float("inf")), "noise"),
        (dict(noise="loud"), "noise"),
    ],
)
def test_spirals_rejects_bad_arguments_by_name(kwargs, word):
    with pytest.raises(InvalidArgument, match=word):
        spirals(**kwargs)
