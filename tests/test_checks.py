"""Checks of user code: every way user code can misbehave is a clear failure, never a crash of the checker."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.checks import (
    CheckResult,
    GradientMismatch,
    Inconclusive,
    check_function,
    check_mlp_grads,
    check_nn_epoch,
    check_two_layer_grads,
)
from gradcheck import problems
from gradcheck.compare import Verdict
from gradcheck.testing import assert_function
from reference_mlp import InvalidArgument
from reference_mlp.mlp import Architecture, Params, gradients


def reference_two_layer(activation="relu"):
    def two_layer_grads(X, y, W1, W2):
        arch = Architecture.build((W1.shape[0], W1.shape[1], W2.shape[1]), hidden=activation)
        grads = gradients(arch, Params((W1, W2), (None, None)), X, y)
        return grads.dW
    return two_layer_grads


def relu_grads(derivative_at_zero):
    def two_layer_grads(X, y, W1, W2):
        A = X @ W1
        H = np.maximum(A, 0)
        Z = H @ W2
        S = np.exp(Z - Z.max(axis=1, keepdims=True))
        S /= S.sum(axis=1, keepdims=True)
        S[np.arange(len(y)), y] -= 1
        S /= len(y)
        mask = np.where(A > 0, 1.0, np.where(A < 0, 0.0, derivative_at_zero))
        return X.T @ ((S @ W2.T) * mask), H.T @ S
    return two_layer_grads


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_any_subgradient_at_the_relu_kink_is_accepted(value):
    assert check_two_layer_grads(relu_grads(value)).passed


def test_a_correct_function_passes_in_every_case_and_says_so():
    result = check_two_layer_grads(reference_two_layer("tanh"), activation="tanh", seed=3)
    assert result.passed and result.raise_if_failed() is result
    assert result.headline() == "two_layer_grads: PASS, all 24 comparisons agree (gradient function, σ = tanh, seed 3)"
    cases = {c.problem.split(" (")[0] for c in result.comparisons}
    assert cases == {"non-square", "square", "uint8 labels missing a class", "large logits"}


def test_code_that_raises_fails_with_the_exception_and_its_line():
    def two_layer_grads(X, y, W1, W2):
        return X @ W2, None  # wrong shapes for a matrix product
    result = check_two_layer_grads(two_layer_grads)
    assert not result.passed
    note = result.failures[0].note
    assert note.startswith("your two_layer_grads raised ValueError: matmul")
    assert "test_checks.py" in note and "in two_layer_grads: return X @ W2, None" in note


@pytest.mark.parametrize(
    "returned, message",
    [
        (None, "not implemented? two_layer_grads must return 2 gradient(s) (dW1, dW2); it returned None"),
        ([1.0], "it returned a list of 1"),
        ({"a": 1}, "the dict it returned has keys ['a'] and none of"),
        ("text", "as a tuple, list or dict; it returned str"),
        ((np.array(["a"]), np.zeros(1)), "dW1: must be an array of real numbers; got dtype <U1"),
    ],
)
def test_a_malformed_return_value_fails_with_what_was_expected(returned, message):
    def two_layer_grads(X, y, W1, W2):
        return returned
    result = check_two_layer_grads(two_layer_grads)
    assert not result.passed
    assert all(message in c.note for c in result.failures)


def test_nan_gradients_and_wrong_shapes_fail_and_never_pass():
    def nan_grads(X, y, W1, W2):
        return np.full(W1.shape, np.nan), np.zeros(W2.shape)
    def flat_grads(X, y, W1, W2):
        return np.zeros(W1.size), np.zeros(W2.shape)
    nan_result, flat_result = check_two_layer_grads(nan_grads), check_two_layer_grads(flat_grads)
    assert not nan_result.passed and "NaN or infinite" in nan_result.failures[0].note
    n, d, _ = problems.shapes(0, depth=2)["non-square"].widths  # the first case's W1 is n × d
    assert not flat_result.passed and f"shape mismatch: expected ({n}, {d}), got ({n * d},)" in flat_result.failures[0].note


def test_dict_returns_and_argument_orders_are_configurable():
    def grads(W1, W2, X, y):
        dW1, dW2 = reference_two_layer()(X, y, W1, W2)
        return {"grad_first": dW1, "grad_second": dW2}
    result = check_two_layer_grads(grads, order=("W1", "W2", "X", "y"), keys={"W1": "grad_first", "W2": "grad_second"})
    assert result.passed
    with pytest.raises(InvalidArgument, match="order must name X, y, W1 and W2 once each"):
        check_two_layer_grads(grads, order=("X", "X", "W1", "W2"))


def test_an_array_subclass_with_lying_arithmetic_cannot_make_a_wrong_gradient_pass():
    class Liar(np.ndarray):
        def __array_ufunc__(self, *args, **kwargs):
            return np.zeros(self.shape)  # every difference "is zero"
        def __eq__(self, other):
            return True
    def two_layer_grads(X, y, W1, W2):
        return np.zeros(W1.shape).view(Liar), np.zeros(W2.shape).view(Liar)
    assert not check_two_layer_grads(two_layer_grads).passed


def test_a_failure_raises_an_assertion_error_whose_first_line_is_the_summary():
    def sum_not_mean(X, y, W1, W2):
        return tuple(g * len(X) for g in reference_two_layer()(X, y, W1, W2))
    result = check_two_layer_grads(sum_not_mean)
    with pytest.raises(GradientMismatch) as info:
        result.raise_if_failed()
    assert isinstance(info.value, AssertionError)
    text = str(info.value)
    assert text.splitlines()[0] == "sum_not_mean: FAIL, 32 of 32 comparisons failed (gradient function, σ = relu, seed 0)"
    assert "probable cause: the gradient is m times too large" in text
    assert result.diagnoses == ("sum_instead_of_mean",)


def test_an_unrecognised_mistake_is_reported_as_unknown_with_evidence():
    def noisy(X, y, W1, W2):
        dW1, dW2 = reference_two_layer()(X, y, W1, W2)
        return dW1 + 0.01 * np.cos(np.arange(dW1.size)).reshape(dW1.shape), dW2
    result = check_two_layer_grads(noisy)
    assert not result.passed and result.diagnoses == ()
    assert result.failures[0].diagnosis.startswith("cause unknown; no known mistake reproduces your numbers")


def only_tanh(X, y, Ws, activation="relu"):
    if activation != "tanh":
        raise ValueError(f"only tanh, not {activation}")
    arch = Architecture.build([W.shape[0] for W in Ws] + [Ws[-1].shape[1]], hidden="tanh")
    return list(gradients(arch, Params(tuple(Ws), (None,) * len(Ws)), X, y).dW)


def test_an_activation_the_code_rejects_fails_unless_the_user_says_which_it_supports():
    result = check_mlp_grads(only_tanh)
    assert result.verdict is Verdict.FAIL and result.unsupported == ()
    note = result.failures[0].note
    assert "ValueError: only tanh, not relu" in note and "--activation tanh or activations=('tanh',)" in note
    declared = check_mlp_grads(only_tanh, activations=("tanh",))
    assert declared.passed and "σ ∈ {tanh}" in declared.convention


def test_code_that_raises_for_every_activation_fails():
    def mlp_grads(X, y, Ws, activation="relu"):
        raise NotImplementedError("todo")
    result = check_mlp_grads(mlp_grads)
    assert not result.passed and result.unsupported == ()


def test_an_epoch_that_returns_new_weights_instead_of_updating_in_place_is_told_so():
    def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
        return W1 - lr, W2 - lr
    result = check_nn_epoch(nn_epoch)
    assert not result.passed
    assert "not implemented? the weights did not change: nn_epoch must update W1, W2 in place" in result.failures[0].note


def test_the_generic_check_compares_a_backward_with_finite_differences_of_its_forward():
    rng = np.random.default_rng(0)
    inputs = {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((4, 2))}
    before = {k: v.copy() for k, v in inputs.items()}
    forward = lambda x, w: np.tanh(x @ w)
    def backward(dout, x, w):
        delta = dout * (1 - np.tanh(x @ w) ** 2)
        return delta @ w.T, x.T @ delta
    def forgot_derivative(dout, x, w):
        return dout @ w.T, x.T @ dout
    assert check_function(forward, backward, inputs).passed
    bad = check_function(forward, forgot_derivative, inputs)
    assert [c.tensor for c in bad.failures] == ["dx", "dw"]
    assert all(np.array_equal(inputs[k], before[k]) for k in inputs)
    assert {c.verdict for c in check_function(forward, backward, list(inputs.values())).comparisons} == {Verdict.PASS}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: check_two_layer_grads(42), "fn must be a function; got int 42"),
        (lambda: check_two_layer_grads(reference_two_layer(), activation="swish"), "unknown activation 'swish'"),
        (lambda: check_nn_epoch(lambda *a, **k: None, lr=-1), "lr must be a positive"),
        (lambda: check_function(np.tanh, np.tanh, {}), "at least one array"),
        (lambda: check_function(lambda x: 1 / 0, np.tanh, [np.ones(2)]), "forward raised on the inputs given: ZeroDivisionError"),
    ],
)
def test_bad_arguments_to_a_check_raise_a_helpful_error(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()


def test_float32_code_is_judged_with_the_float32_tolerance_when_fed_float32():
    import numpy as np

    def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
        for i in range(0, len(X), batch):
            Xb, yb = X[i:i + batch].astype(np.float32), y[i:i + batch]
            Z1 = np.maximum(Xb @ W1, 0)
            Z = Z1 @ W2
            S = np.exp(Z - Z.max(1, keepdims=True))
            S /= S.sum(1, keepdims=True)
            S[np.arange(len(yb)), yb] -= 1
            G1 = (Z1 > 0) * (S @ W2.T)
            W1 -= lr * Xb.T @ G1 / len(yb)
            W2 -= lr * Z1.T @ S / len(yb)

    assert check_nn_epoch(nn_epoch, dtype=np.float32).passed


def test_finite_differences_use_the_precision_the_forward_computes_in():
    import numpy as np

    forward = lambda x: np.tanh(x.astype(np.float32))
    backward = lambda dout, x: dout * (1 - np.tanh(x.astype(np.float32)) ** 2)
    x = [np.random.default_rng(0).standard_normal((3, 4))]
    assert check_function(forward, backward, x, method="central").passed
    assert not check_function(forward, lambda d, x: 1.01 * backward(d, x), x).passed


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: check_two_layer_grads(reference_two_layer(), seed=-1), "seed must be an integer ≥ 0; got -1"),
        (lambda: check_two_layer_grads(reference_two_layer(), dtype="banana"), "dtype must be float32 or float64"),
        (lambda: check_two_layer_grads(reference_two_layer(), dtype=np.int32), "dtype must be float32 or float64"),
        (lambda: check_mlp_grads(reference_two_layer(), depth=6), "depth must be between 1 and 5"),
        (lambda: check_mlp_grads(reference_two_layer(), activations=()), "activations must list at least one"),
    ],
)
def test_more_bad_arguments_raise_a_helpful_error(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()


def test_every_record_names_the_seed_that_replays_it():
    def sum_not_mean(X, y, W1, W2):
        return tuple(g * len(X) for g in reference_two_layer()(X, y, W1, W2))

    for result in (check_two_layer_grads(sum_not_mean, seed=10),
                   check_nn_epoch(lambda X, y, W1, W2, lr=0.1, batch=100: None, seed=10)):
        assert {c.seed for c in result.comparisons} == {10}
        assert all("seed 10" in line for line in result.render().splitlines() if line.startswith("  problem:"))


def relu_inputs(zeros: int) -> np.ndarray:
    x = np.random.default_rng(3).standard_normal((4, 5))
    x.flat[:zeros] = 0.0  # exactly on ReLU's kink, as a float32 cast of small inputs often leaves them
    return x


@pytest.mark.parametrize("backward", [lambda dout, x: dout * (x > 0), lambda dout, x: dout * (x >= 0)],
                         ids=["strict", "at-the-kink"])
def test_a_relu_backward_with_inputs_on_the_kink_passes_with_those_entries_not_checkable(backward):
    result = check_function(lambda x: np.maximum(x, 0), backward, [relu_inputs(3)])
    assert result.passed and result.comparisons[0].not_checkable == 3


def test_a_wrong_relu_backward_with_inputs_on_the_kink_still_fails():
    doubled = lambda dout, x: 2 * dout * (x > 0)
    assert check_function(lambda x: np.maximum(x, 0), doubled, [relu_inputs(3)]).verdict is Verdict.FAIL
    leaky = lambda dout, x: dout * np.where(x > 0, 1.0, 0.01)  # wrong only off the kink, on the negative side
    assert check_function(lambda x: np.maximum(x, 0), leaky, [relu_inputs(3)]).verdict is Verdict.FAIL


def test_a_backward_judged_on_too_few_entries_is_inconclusive_and_its_assertion_says_how_to_settle_it():
    result = check_function(lambda x: np.maximum(x, 0), lambda dout, x: dout * (x > 0), [relu_inputs(15)])
    assert result.verdict is Verdict.INCONCLUSIVE and not result.passed and not result.failures
    assert "INCONCLUSIVE, 1 of 1 comparisons could not judge enough entries" in result.headline()
    assert "away from the kinks" in result.headline()
    with pytest.raises(Inconclusive, match="could not judge"):
        result.raise_if_failed()
    with pytest.raises(Inconclusive, match="gradcheck could not judge backward|gradcheck could not judge <lambda>"):
        assert_function(lambda x: np.maximum(x, 0), lambda dout, x: dout * (x > 0), [relu_inputs(15)])


def test_smooth_functions_have_no_kink_found_in_them():
    x = np.random.default_rng(4).standard_normal((5, 6)) * 3
    forward = lambda x: np.tanh(x) * x**2
    backward = lambda dout, x: dout * (2 * x * np.tanh(x) + x**2 * (1 - np.tanh(x) ** 2))
    result = check_function(forward, backward, [x])
    assert result.passed and result.comparisons[0].not_checkable == 0


def test_a_check_that_made_no_comparison_is_inconclusive_never_passed():
    empty = CheckResult("nothing", "gradient function", (), 0)
    assert empty.verdict is Verdict.INCONCLUSIVE and not empty.passed


def softmax_grads(logits_seen):
    """Eqs. 10 and 11 for ReLU, with the logits passed through ``logits_seen`` before the softmax."""
    def two_layer_grads(X, y, W1, W2):
        H = np.maximum(X @ W1, 0)
        Z = logits_seen(H @ W2)
        S = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)  # direct, as DLSys hw0 allows
        S[np.arange(len(y)), y] -= 1
        S /= len(y)
        return X.T @ ((S @ W2.T) * (X @ W1 > 0)), H.T @ S
    return two_layer_grads


def test_a_direct_softmax_that_overflows_warns_by_default_and_fails_when_stability_is_required():
    relaxed = check_two_layer_grads(softmax_grads(lambda Z: Z))
    assert relaxed.passed and relaxed.warnings and {w.bug for w in relaxed.warnings} == {"softmax_overflow"}
    assert all(w.problem.startswith("large logits") for w in relaxed.warnings)
    strict = check_two_layer_grads(softmax_grads(lambda Z: Z), require_stability=True)
    assert strict.verdict is Verdict.FAIL and strict.diagnoses == ("softmax_overflow",) and not strict.warnings


def test_a_finite_but_wrong_gradient_on_large_logits_is_a_gradient_error_not_a_stability_warning():
    clipped = check_two_layer_grads(softmax_grads(lambda Z: np.clip(Z, -30, 30)))  # finite, and wrong there
    assert clipped.verdict is Verdict.FAIL and not clipped.warnings
    assert {c.problem.split(" (")[0] for c in clipped.failures} == {"large logits"}


def test_a_gradient_wrong_on_ordinary_inputs_fails_even_when_its_softmax_also_overflows():
    doubled = lambda X, y, W1, W2: tuple(2 * g for g in softmax_grads(lambda Z: Z)(X, y, W1, W2))
    result = check_two_layer_grads(doubled)
    assert result.verdict is Verdict.FAIL and "non-square" in result.failures[0].problem


def test_a_check_that_draws_its_own_problems_redraws_them_instead_of_being_inconclusive(monkeypatch):
    from gradcheck.checks import conventions
    from gradcheck.compare import compare

    seeds = []

    def check(module, options):
        seeds.append(options["seed"])
        judged = np.ones(4) if options["seed"] != 7 else np.zeros(4, bool)  # seed 7 draws an unjudgeable problem
        return CheckResult("grads", "gradient function", (compare(np.ones(4), np.ones(4), tensor="W1",
                                                                   checkable=judged.astype(bool)),), options["seed"])

    monkeypatch.setitem(conventions.CONVENTIONS, "two_layer_grads", (lambda m: True, check))
    (result,) = conventions.check_module(object(), ("two_layer_grads",), seed=7)
    assert result.passed and seeds == [7, 7 + conventions.REDRAW_STRIDE] and result.seed == seeds[-1]
    always = lambda module, options: CheckResult("grads", "gradient function", (), options["seed"])
    monkeypatch.setitem(conventions.CONVENTIONS, "two_layer_grads", (lambda m: True, always))
    (stuck,) = conventions.check_module(object(), ("two_layer_grads",), seed=7)
    assert stuck.inconclusive and stuck.seed == 7 + conventions.REDRAWS * conventions.REDRAW_STRIDE


def test_an_overflow_excuses_only_its_own_entries_and_finite_wrong_ones_beside_it_still_fail():
    def one_nan_and_wrong(X, y, W1, W2):
        dW1, dW2 = reference_two_layer()(X, y, W1, W2)
        if np.abs(X @ W1).max() * np.abs(W2).max() > 50:  # only on the large-logits problem
            dW1 = 2 * dW1
            dW1.flat[0] = np.nan
        return dW1, dW2
    result = check_two_layer_grads(one_nan_and_wrong)
    assert result.verdict is Verdict.FAIL and any(c.problem.startswith("large logits") for c in result.failures)
