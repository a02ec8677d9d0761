"""check_gradient: a claimed gradient of a loss, judged knowing nothing but the loss, in a few evaluations of it."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings

from gradcheck import strategies
from gradcheck.checks import check_gradient
from gradcheck.compare import Verdict, tolerances
from gradcheck.report import render
from gradcheck.testing import GradientMismatch, assert_gradient
from gradcheck.witnesses import Problem, closed_form, make_problem
from reference_mlp import Architecture, InvalidArgument, mlp

MNIST = make_problem(Architecture.build((784, 128, 10), hidden="relu"), m=64, seed=0)  # W1: 100,352 entries


def reference_loss(p: Problem):
    names = list(p.params.tensors())

    def loss(*tensors):
        params = p.params
        for name, value in zip(names, tensors):
            params = params.replace(name, value)
        return mlp.loss(p.arch, params, p.X, p.y, p.reduction)
    return loss


def truth(p: Problem) -> list[np.ndarray]:
    exact = closed_form(p)
    return [exact[name] for name in p.params.tensors()]


def student_loss(p: Problem):
    """A two-layer ReLU net as students write it: float32 inside, a direct softmax, `>=` at the kink."""
    def loss(W1, W2):
        X = p.X.astype(np.float32)
        H = np.where(X @ W1 >= 0, X @ W1, 0)
        S = np.exp(H @ W2)
        S = S / S.sum(axis=1, keepdims=True)
        return -np.mean(np.log(S[np.arange(len(p.y)), p.y]))
    return loss


def student_gradients(p: Problem) -> list[np.ndarray]:
    X, (W1, W2) = p.X.astype(np.float32), (W.astype(np.float32) for W in p.params.W)
    A1 = X @ W1
    H = np.where(A1 >= 0, A1, 0)
    S = np.exp(H @ W2)
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(len(p.y)), p.y] -= 1
    S /= len(p.y)
    return [(X.T @ ((S @ W2.T) * (A1 >= 0))).astype(np.float64), (H.T @ S).astype(np.float64)]  # float64 I/O


@settings(max_examples=25, deadline=None)
@given(problem=strategies.problems(strategies.architectures(bias=True, max_depth=4)))
def test_a_correct_gradient_passes_on_any_network(problem):
    result = check_gradient(reference_loss(problem), list(problem.params.tensors().values()), truth(problem))
    assert result.passed, "\n".join(render(c) for c in result.failures)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_entry_off_by_a_relative_1e_6_among_100k_fails_in_seven_evaluations_and_is_located(seed):
    loss, W = reference_loss(MNIST), list(MNIST.params.W)
    right = truth(MNIST)
    assert check_gradient(loss, W, right).passed
    rng = np.random.default_rng(seed)
    wrong = [g.copy() for g in right]
    j = int(rng.integers(wrong[0].size))
    wrong[0].flat[j] *= 1 + 1e-6
    result = check_gradient(loss, W, wrong)
    assert result.verdict is Verdict.FAIL
    assert {c.tensor for c in result.failures} == {"d(x0, x1)·w1", "d(x0, x1)·w2"}
    index = ", ".join(map(str, np.unravel_index(j, wrong[0].shape)))
    assert f"dx0[{index}] off by" in result.failures[0].note
    spent = re.search(r"(\d+) evaluations of it", result.convention)
    assert int(spent.group(1)) <= 64
    # f at x, and per direction the slope at x and on either side of its rounding (the kink probe)
    assert "7 evaluations of it" in check_gradient(loss, W, right).convention


def test_deeper_networks_and_smooth_activations_are_judged_the_same_way():
    for hidden in ("tanh", "sigmoid", "relu"):
        p = make_problem(Architecture.build((30, 40, 40, 20, 7), hidden=hidden, bias=True), m=33, seed=4)
        loss, tensors, right = reference_loss(p), list(p.params.tensors().values()), truth(p)
        assert check_gradient(loss, tensors, right).passed
        wrong = [g.copy() for g in right]
        wrong[2].flat[17] *= 1 + 1e-6
        assert check_gradient(loss, tensors, wrong).verdict is Verdict.FAIL


def test_a_float32_student_gradient_passes_and_a_wrong_one_fails():
    for seed in range(5):
        p = make_problem(Architecture.build((40, 30, 10), hidden="relu"), m=16, seed=seed)
        p = Problem(p.arch, mlp.Params(tuple(W.astype(np.float32).astype(np.float64) for W in p.params.W), p.params.b),
                    p.X.astype(np.float32).astype(np.float64), p.y)
        loss, right = student_loss(p), student_gradients(p)
        result = check_gradient(loss, list(p.params.W), right)
        assert result.passed, "\n".join(render(c) for c in result.failures)
        # float32: f at x, and per direction the slope at x and beside it along two independent moves
        assert "11 evaluations of it" in result.convention
        wrong = [g.copy() for g in right]
        wrong[0].flat[np.argmax(np.abs(wrong[0]))] *= 1.01
        assert check_gradient(loss, list(p.params.W), wrong).verdict is Verdict.FAIL


def test_a_loss_that_drops_the_imaginary_part_is_differenced_instead():
    p = make_problem(Architecture.build((12, 9, 4), hidden="tanh"), m=10, seed=3)
    reference = reference_loss(p)

    def real_only(W1, W2):
        return float(np.real(reference(W1, W2)))

    right = truth(p)
    result = check_gradient(real_only, list(p.params.W), right)
    assert result.passed and "richardson differences" in result.convention
    wrong = [right[0] * (1 + 1e-4), right[1]]
    assert check_gradient(real_only, list(p.params.W), wrong).verdict is Verdict.FAIL


def test_inputs_and_gradients_may_be_named():
    p = make_problem(Architecture.build((6, 5, 3), hidden="sigmoid"), m=4, seed=1)
    exact = closed_form(p)
    result = check_gradient(lambda W1, W2: reference_loss(p)(W1, W2), {"W1": p.params.W[0], "W2": p.params.W[1]},
                            {"W1": exact["W1"], "W2": exact["W2"]})
    assert result.passed and {c.tensor for c in result.comparisons} == {"d(W1, W2)·w1", "d(W1, W2)·w2"}


def test_a_gradient_of_the_wrong_shape_fails_and_says_which():
    p = make_problem(Architecture.build((6, 5, 3), hidden="relu"), m=4, seed=1)
    right = truth(p)
    result = check_gradient(reference_loss(p), list(p.params.W), [right[0].T, right[1]])
    assert result.verdict is Verdict.FAIL
    assert "must have its shape (6, 5)" in result.failures[0].note


def test_bad_arguments_are_refused_with_what_was_expected():
    p = make_problem(Architecture.build((6, 5, 3), hidden="relu"), m=4, seed=1)
    with pytest.raises(InvalidArgument, match="loss must be a function"):
        check_gradient("loss", list(p.params.W), truth(p))
    with pytest.raises(InvalidArgument, match="2 gradient"):
        check_gradient(reference_loss(p), list(p.params.W), truth(p)[:1])
    with pytest.raises(InvalidArgument, match="directions"):
        check_gradient(reference_loss(p), list(p.params.W), truth(p), directions=0)
    with pytest.raises(InvalidArgument, match="finite"):
        check_gradient(lambda W1, W2: np.nan, list(p.params.W), truth(p))


def on_kink(p: Problem, units: int = 3) -> Problem:
    """``p`` with ``units`` first-layer pre-activations exactly 0: (XW₁)[r, r] = W₁[0, r] − W₁[1, r] = 0."""
    X, W1 = p.X.copy(), p.params.W[0].copy()
    for r in range(units):
        X[r] = 0.0
        X[r, 0], X[r, 1] = 1.0, -1.0
        W1[1, r] = W1[0, r]
    return Problem(p.arch, p.params.replace("W1", W1), X, p.y)


def near_kink(p: Problem, offset: float, units: int = 3) -> Problem:
    """``p`` with X moved so that ``units`` first-layer pre-activations sit ±offset from ReLU's kink."""
    X, W1 = p.X.copy(), p.params.W[0]
    for r in range(units):
        X[r, -1] -= (X[r] @ W1[:, r] - offset * (-1) ** r) / W1[-1, r]
    return Problem(p.arch, p.params, X, p.y)


def test_on_a_kink_any_one_sided_slope_is_right_so_nothing_is_judged_and_nothing_passes():
    for seed in range(4):
        p = on_kink(make_problem(Architecture.build((30, 20, 6), hidden="relu"), m=12, seed=seed))
        loss, right = reference_loss(p), truth(p)
        result = check_gradient(loss, list(p.params.W), right)
        assert result.verdict is Verdict.INCONCLUSIVE, "\n".join(render(c) for c in result.failures)
        assert "kink of your loss" in result.comparisons[0].not_checkable_reason
        wrong = [right[0] * 1.5, right[1]]
        assert check_gradient(loss, list(p.params.W), wrong).verdict is not Verdict.PASS


def test_float32_code_near_a_kink_is_not_failed_for_the_side_its_rounding_chose():
    for seed in range(6):
        p = make_problem(Architecture.build((40, 30, 10), hidden="relu"), m=16, seed=seed)
        p = Problem(p.arch, mlp.Params(tuple(W.astype(np.float32).astype(np.float64) for W in p.params.W), p.params.b),
                    p.X.astype(np.float32).astype(np.float64), p.y)
        p = near_kink(p, 1e-7)
        right = student_gradients(p)
        result = check_gradient(student_loss(p), list(p.params.W), right)
        assert result.verdict is not Verdict.FAIL, "\n".join(render(c) for c in result.failures)
        wrong = [right[0] * 1.5, right[1]]
        assert check_gradient(student_loss(p), list(p.params.W), wrong).verdict is not Verdict.PASS


def test_float64_code_near_but_not_on_a_kink_is_judged_and_a_wrong_entry_still_fails():
    p = near_kink(make_problem(Architecture.build((30, 20, 6), hidden="relu"), m=12, seed=2), 1e-7)
    loss, right = reference_loss(p), truth(p)
    assert check_gradient(loss, list(p.params.W), right).passed
    wrong = [g.copy() for g in right]
    wrong[0].flat[7] *= 1 + 1e-6
    assert check_gradient(loss, list(p.params.W), wrong).verdict is Verdict.FAIL


def test_an_rtol_the_user_sets_is_the_error_each_entry_may_carry():
    p = make_problem(Architecture.build((30, 20, 6), hidden="tanh"), m=12, seed=5)
    loss, right = reference_loss(p), truth(p)
    wrong = [g.copy() for g in right]
    largest = int(np.argmax(np.abs(wrong[0])))
    wrong[0].flat[largest] *= 1 + 1e-6
    assert check_gradient(loss, list(p.params.W), wrong).verdict is Verdict.FAIL
    with tolerances(rtol=1e-3):
        assert check_gradient(loss, list(p.params.W), wrong).passed
        wrong[0].flat[largest] *= 1.5
        assert check_gradient(loss, list(p.params.W), wrong).verdict is Verdict.FAIL


def test_assert_gradient_raises_the_report_of_a_wrong_gradient():
    p = make_problem(Architecture.build((6, 5, 3), hidden="tanh"), m=4, seed=1)
    right = truth(p)
    assert assert_gradient(reference_loss(p), list(p.params.W), right).passed
    with pytest.raises(GradientMismatch, match="located by group testing"):
        assert_gradient(reference_loss(p), list(p.params.W), [right[0] * 1.01, right[1]])


def test_named_gradients_are_matched_to_their_inputs_by_name_whatever_their_order():
    rng = np.random.default_rng(0)
    a, b, X = rng.standard_normal(50), rng.standard_normal(50), rng.standard_normal(50)

    def loss(a, b):
        return np.sum(np.sin(a)) + np.sum(b * X)

    wrong_a = np.cos(a)
    wrong_a[7] *= 1 + 1e-6
    assert check_gradient(loss, {"a": a, "b": b}, {"db": X, "da": np.cos(a)}).passed
    result = check_gradient(loss, {"a": a, "b": b}, {"db": X, "da": wrong_a})
    assert result.verdict is Verdict.FAIL and "da[7] off by" in result.failures[0].note


def test_a_float32_gradient_beside_a_float64_one_is_judged_at_float32_and_a_smooth_loss_still_passes():
    rng = np.random.default_rng(0)
    a, b, X = rng.standard_normal(50), rng.standard_normal(50), rng.standard_normal(50).astype(np.float32)

    def loss(a, b):
        return np.sum(np.sin(a)) + np.sum(b * X)

    db = X.astype(np.float64)  # float32 values: b's gradient copies float32 data
    assert check_gradient(loss, {"a": a, "b": b}, {"da": np.cos(a), "db": db}).passed
    wrong_b = db.copy()
    wrong_b[3] += 0.5
    assert check_gradient(loss, {"a": a, "b": b}, {"da": np.cos(a), "db": wrong_b}).verdict is Verdict.FAIL


def test_integer_valued_gradients_are_judged_as_exact_not_as_float32():
    x = np.arange(100_000, dtype=np.float64) % 97 - 48

    def loss(x):
        return 0.5 * np.sum(x * x)

    assert check_gradient(loss, [x], [x.copy()]).passed
    wrong = x.copy()
    wrong[12_345] += 3
    assert check_gradient(loss, [x], [wrong]).verdict is Verdict.FAIL


def test_an_input_sitting_on_a_kink_at_zero_is_not_judged_either_way():
    x = np.array([0.0, 1.5, -2.0, 0.0, 3.0, -0.5, 0.0, 2.0])

    def loss(x):
        return np.sum(np.maximum(x, 0))

    for at_zero in (0.0, 1.0):
        claimed = np.where(x > 0, 1.0, 0.0)
        claimed[x == 0] = at_zero
        assert check_gradient(loss, [x], [claimed]).verdict is Verdict.INCONCLUSIVE
    assert check_gradient(loss, [x + 0.25], [np.where(x + 0.25 > 0, 1.0, 0.0)]).passed
    assert check_gradient(loss, [x + 0.25], [np.where(x + 0.25 > 0, 1.0, 0.5)]).verdict is Verdict.FAIL


def test_richardson_differences_near_a_kink_do_not_fail_a_correct_gradient_nor_pass_a_wrong_one():
    p = near_kink(make_problem(Architecture.build((20, 12, 5), hidden="relu"), m=8, seed=3), 1e-6)
    reference = reference_loss(p)

    def real_only(W1, W2):
        return float(np.real(reference(W1, W2)))

    right = truth(p)
    for loss, method in ((real_only, "auto"), (reference, "richardson")):
        assert check_gradient(loss, list(p.params.W), right, method=method).verdict is not Verdict.FAIL
        wrong = [right[0] * 1.5, right[1]]
        assert check_gradient(loss, list(p.params.W), wrong, method=method).verdict is not Verdict.PASS


def test_a_loss_returning_a_python_complex_is_still_failed_and_located():
    p = make_problem(Architecture.build((6, 5, 3), hidden="tanh"), m=4, seed=1)
    reference = reference_loss(p)

    def loss(W1, W2):
        return complex(reference(W1, W2))

    right = truth(p)
    assert check_gradient(loss, list(p.params.W), right).passed
    wrong = [right[0].copy(), right[1]]
    wrong[0][2, 3] += 0.01
    result = check_gradient(loss, list(p.params.W), wrong)
    assert result.verdict is Verdict.FAIL and "dx0[2, 3] off by" in result.failures[0].note


def test_a_loss_that_is_not_a_scalar_or_inputs_with_nothing_to_judge_are_said_plainly():
    x = np.ones(4)
    with pytest.raises(InvalidArgument, match="must return a scalar"):
        check_gradient(lambda x: x * 2, [x], [2 * x])
    assert check_gradient(lambda x: 0.0, [np.zeros(0)], [np.zeros(0)]).verdict is Verdict.INCONCLUSIVE


def test_nan_or_infinite_gradient_entries_fail_and_are_named():
    x = np.linspace(-1, 1, 10)
    claimed = 2 * x
    claimed[4] = np.nan
    result = check_gradient(lambda x: np.sum(x * x), [x], [claimed])
    assert result.verdict is Verdict.FAIL
    assert "1 of its 10 entries are NaN or infinite, the first dx0[4]" in result.failures[0].note


def test_a_floor_the_user_sets_does_not_loosen_the_rounding_each_entry_may_carry():
    p = make_problem(Architecture.build((30, 20, 6), hidden="tanh"), m=12, seed=5)
    wrong = [g.copy() for g in truth(p)]
    wrong[0].flat[int(np.argmax(np.abs(wrong[0])))] *= 1 + 1e-4
    with tolerances(floor=1e-5):
        assert check_gradient(reference_loss(p), list(p.params.W), wrong).verdict is Verdict.FAIL
