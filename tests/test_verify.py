"""verify(): every entry against the closed form (JAX confirming what it rejects), plus finite differences along
random directions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings

from gradcheck import oracle, strategies
from gradcheck.compare import Verdict, compare
from gradcheck.diagnose import variant_gradients
from gradcheck.report import render
from gradcheck.verification import KINK_REASON, along_directions, verify
from gradcheck.witnesses import CLOSED_FORM, FD, JAX, Problem, closed_form, make_problem
from reference_mlp import Architecture, InvalidArgument, mlp


def relu_net(widths=(20, 16, 5), m=8, seed=0, bias=False) -> Problem:
    return make_problem(Architecture.build(widths, hidden="relu", bias=bias), m=m, seed=seed)


def params_of(p: Problem, truth: dict) -> dict:
    return {name: truth[name] for name in p.params.tensors()}


def correct(p: Problem) -> dict:
    return params_of(p, closed_form(p))


def near_kink(p: Problem, offset: float) -> Problem:
    """``p`` with X moved so that three first-layer pre-activations sit ±offset from ReLU's kink."""
    X, W1 = p.X.copy(), p.params.W[0]
    for row in range(3):
        X[row, -1] -= (X[row] @ W1[:, row] - offset * (-1) ** row) / W1[-1, row]
    return Problem(p.arch, p.params, X, p.y)


def with_entry_off(p: Problem, rel: float) -> dict:
    grads = correct(p)
    W1 = grads["W1"].copy()
    W1.flat[np.argmax(np.abs(W1))] *= 1 + rel
    grads["W1"] = W1
    return grads


@settings(max_examples=30, deadline=None)
@given(problem=strategies.problems(strategies.architectures(bias=True)))
def test_correct_gradients_pass_on_any_network(problem):
    result = verify(problem, correct(problem))
    assert result.passed, "\n".join(render(c) for c in result.failures)


def test_each_tensor_is_judged_by_all_three_witnesses_when_all_are_asked_for():
    p = relu_net(bias=True)
    result = verify(p, correct(p), directions=3, witness="all")
    for name in ("W1", "b1", "W2", "b2"):
        judged = [c.witnesses[1] for c in result.comparisons if c.tensor.split("·")[0] == name]
        assert judged == [CLOSED_FORM, JAX, FD, FD, FD]


@pytest.mark.parametrize("bug, grads", [
    ("one entry off by a relative 1e-3", lambda p: with_entry_off(p, 1e-3)),
    ("one entry off by a relative 1e-6", lambda p: with_entry_off(p, 1e-6)),
    ("missing σ'", lambda p: params_of(p, variant_gradients(p, derivative="none"))),
    ("pre-activation for activation", lambda p: params_of(p, variant_gradients(p, dW_from="preactivation"))),
    ("sum instead of mean", lambda p: {k: v * len(p.X) for k, v in correct(p).items()}),
    ("sign flip", lambda p: {k: -v for k, v in correct(p).items()}),
])
@pytest.mark.parametrize("widths, m", [((20, 16, 5), 8), ((32, 24, 16, 10), 16)])
def test_every_planted_bug_fails(bug, grads, widths, m):
    p = relu_net(widths, m)
    result = verify(p, grads(p))
    assert not result.passed
    assert {c.witnesses[1] for c in result.failures} >= {CLOSED_FORM, JAX}


def test_a_wrong_direction_of_the_whole_gradient_fails_the_finite_difference_witness_too():
    p = relu_net()
    result = verify(p, {k: -v for k, v in correct(p).items()})
    assert any(c.witnesses[1] == FD for c in result.failures)


def test_pre_activations_within_1e_7_of_the_kink_are_checked_and_pass():
    p = near_kink(relu_net(m=8, seed=4), 1e-7)
    result = verify(p, correct(p))
    assert result.passed and result.not_checkable == 0


def on_the_kink() -> tuple[Problem, dict]:
    """A problem with (XW₁)[0, 0] = 0 exactly, and the correct gradients for σ'(0) = 1 (the witnesses take 0)."""
    p = relu_net((4, 3, 2), m=3)
    X, W1 = p.X.copy(), p.params.W[0].copy()
    X[0] = [1.0, -1.0, 0.0, 0.0]
    W1[1, 0] = W1[0, 0]  # (XW₁)[0, 0] = W₁[0, 0] − W₁[1, 0] = 0 exactly
    p = Problem(p.arch, p.params.replace("W1", W1), X, p.y)
    assert (X @ W1)[0, 0] == 0.0
    yours = correct(p)
    extra = np.zeros((3, 3))
    extra[0, 0] = closed_form(p)["G2"][0, 0]  # the term σ'(0) = 1 adds to G₂ ∘ σ'
    yours["W1"] = yours["W1"] + X.T @ extra  # Eq. 15 with it
    return p, yours


def test_entries_fed_by_a_pre_activation_exactly_on_the_kink_are_judged_against_the_interval_it_allows():
    p, yours = on_the_kink()
    for grads in (yours, correct(p)):  # σ'(0) = 1 (`>=`) and σ'(0) = 0 (`>`): both valid
        result = verify(p, grads)
        assert result.passed, "\n".join(render(c) for c in result.failures)
    W1_record = next(c for c in verify(p, yours).comparisons if c.tensor == "W1" and c.witnesses[1] == CLOSED_FORM)
    assert W1_record.bounded == 2 and W1_record.not_checkable == 0  # W1[0, 0] and W1[1, 0], judged all the same
    assert "On a kink: 2 of 12 entries judged against the interval" in render(W1_record)
    yours["W2"] = yours["W2"] * 2  # a real bug elsewhere still fails
    assert not verify(p, yours).passed


@pytest.mark.parametrize("mistake", [lambda g: 3 * g, lambda g: -g, lambda g: 0 * g], ids=["tripled", "flipped", "zeroed"])
def test_a_wrong_value_on_the_entries_a_kink_reaches_fails_for_every_valid_choice_of_sigma_prime(mistake):
    p, yours = on_the_kink()
    W1 = yours["W1"].copy()
    W1[:2, 0] = mistake(W1[:2, 0])  # exactly the two entries the unit on the kink feeds
    result = verify(p, {**yours, "W1": W1})
    assert result.verdict is Verdict.FAIL and {c.tensor for c in result.failures} >= {"W1"}


def deep_relu_with_a_unit_on_the_kink() -> Problem:
    """A 3-layer ReLU net (64×32-64-64-10) with one pre-activation of the last hidden layer exactly at 0."""
    p = make_problem(Architecture.build((32, 64, 64, 10), hidden="relu"), m=64, seed=2)
    cache = mlp.forward(p.arch, p.params, p.X)
    W2 = p.params.W[1].copy()
    Z2 = cache.Z[1]
    j = int(np.argmax(Z2[0]))  # the unit of example 0 with the largest activation feeds A₂[0, 0]
    W2[j, 0] -= (Z2[0] @ W2[:, 0]) / Z2[0, j]
    W2[j, 0] -= (Z2[0] @ W2[:, 0]) / Z2[0, j]  # a second pass takes the rounding out
    p = Problem(p.arch, p.params.replace("W2", W2), p.X, p.y)
    return p


def test_one_unit_on_the_kink_of_a_deep_net_leaves_every_entry_judged_and_a_scaled_w1_fails():
    p = deep_relu_with_a_unit_on_the_kink()
    A2 = mlp.forward(p.arch, p.params, p.X).A[1]
    assert np.count_nonzero(np.abs(A2) < 1e-15) >= 1
    right = correct(p)
    result = verify(p, right)
    assert result.passed and result.not_checkable == 0
    reached = next(c for c in result.comparisons if c.tensor == "W1" and c.witnesses[1] == CLOSED_FORM).bounded
    assert reached > 0
    for wrong in (3 * right["W1"], -right["W1"]):
        assert verify(p, {**right, "W1": wrong}).verdict is Verdict.FAIL


@pytest.mark.parametrize("returned", [lambda g: np.zeros_like(g), lambda g: -g,
                                      lambda g: np.random.default_rng(0).standard_normal(g.shape)],
                         ids=["zeros", "negated", "noise"])
def test_a_float16_result_is_never_waved_through_as_not_checkable(returned):
    problem = make_problem(Architecture.build((784, 128, 10), hidden="relu"), m=64, seed=0)
    grads = correct(problem)
    result = verify(problem, {**grads, "W1": returned(grads["W1"]).astype(np.float16)})
    assert result.verdict is Verdict.FAIL and result.not_checkable == 0


def test_a_tensor_nothing_could_judge_makes_the_verification_inconclusive_not_passed():
    p = relu_net()
    result = verify(p, correct(p), method="richardson", witness="closed-form")
    assert result.passed
    undecided = compare(np.ones(3), np.ones(3), tensor="b1", checkable=np.zeros(3, bool))
    result = replace(result, comparisons=result.comparisons + (undecided,))
    assert result.inconclusive and not result.passed and result.verdict is Verdict.INCONCLUSIVE


def test_float32_gradients_are_judged_at_float32_tolerance():
    p = relu_net()
    result = verify(p, {k: v.astype(np.float32) for k, v in correct(p).items()})
    assert result.passed
    assert {c.tolerance.rtol for c in result.comparisons} == {1e-4}


def test_a_float32_problem_is_judged_from_float64_truth():
    p = relu_net()
    narrow = Problem(p.arch, mlp.Params(tuple(W.astype(np.float32) for W in p.params.W), p.params.b),
                     p.X.astype(np.float32), p.y)
    from_float32 = {k: v.astype(np.float32) for k, v in correct(narrow).items()}  # as float32 backprop returns it
    assert verify(narrow, from_float32).passed
    assert not verify(narrow, with_entry_off(narrow, 1e-3)).passed


def float32_backprop(p: Problem) -> dict:
    """A ReLU two-layer net's gradients computed the way float32 course code computes them."""
    X, (W1, W2) = p.X.astype(np.float32), (W.astype(np.float32) for W in p.params.W)
    A1 = X @ W1
    Z2 = np.maximum(A1, 0)
    h = Z2 @ W2
    S = np.exp(h - h.max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    S[np.arange(len(p.y)), p.y] -= 1
    G3 = S / np.float32(len(p.y))
    return {"W1": X.T @ ((G3 @ W2.T) * (A1 > 0)), "W2": Z2.T @ G3}


def test_float32_code_near_a_kink_is_not_failed_for_the_side_its_rounding_chose():
    failures, bounded = 0, 0
    for seed in range(20):
        # within 1e-7 of the kink: float32 rounding may put it on either side
        p = near_kink(relu_net((60, 40, 10), m=16, seed=seed), 1e-7)
        result = verify(p, float32_backprop(p))
        failures += not result.passed
        bounded += any(c.bounded for c in result.comparisons)
    assert failures == 0
    assert bounded == 20


def test_float32_code_near_a_kink_with_a_wrong_w1_still_fails():
    for seed in range(5):
        p = near_kink(relu_net((60, 40, 10), m=16, seed=seed), 1e-7)
        grads = float32_backprop(p)
        assert verify(p, {**grads, "W1": 1.05 * grads["W1"]}).verdict is Verdict.FAIL


def test_float32_code_with_a_real_bug_still_fails():
    p = relu_net((60, 40, 10), m=16)
    grads = float32_backprop(p)
    grads["W1"].flat[np.argmax(np.abs(grads["W1"]))] *= 1.001
    assert not verify(p, grads).passed


def test_the_closed_form_alone_needs_no_jax():
    p = relu_net()
    result = verify(p, correct(p), witness="closed-form", directions=1)
    assert {c.witnesses[1] for c in result.comparisons} == {CLOSED_FORM, FD}


def test_by_default_a_passing_verification_never_asks_jax(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("JAX was consulted on gradients the closed form accepts")

    monkeypatch.setattr(oracle, "gradients", refuse)
    p = relu_net(bias=True)
    result = verify(p, correct(p))
    assert result.passed and result.witness == "auto"
    assert [c.witnesses[1] for c in result.comparisons if c.tensor.startswith("W1")] == [CLOSED_FORM, FD, FD]


def test_by_default_jax_confirms_exactly_the_tensors_the_closed_form_rejects():
    p = relu_net(bias=True)
    result = verify(p, with_entry_off(p, 1e-6))
    judged = {name: [c.witnesses[1] for c in result.comparisons if c.tensor.split("·")[0] == name]
              for name in ("W1", "b1", "W2", "b2")}
    assert judged["W1"] == [CLOSED_FORM, JAX, FD, FD]
    assert all(judged[name] == [CLOSED_FORM, FD, FD] for name in ("b1", "W2", "b2"))
    confirmation = next(c for c in result.comparisons if c.witnesses[1] == JAX)
    assert confirmation.failed and confirmation.mismatches == 1


def test_jax_alone_judges_every_entry_when_asked():
    p = relu_net()
    assert verify(p, correct(p), witness="jax").passed
    result = verify(p, with_entry_off(p, 1e-6), witness="jax")
    assert {c.witnesses[1] for c in result.comparisons} == {JAX, FD}
    assert result.verdict is Verdict.FAIL


def test_an_unknown_witness_is_refused_with_the_choices():
    p = relu_net()
    with pytest.raises(InvalidArgument, match="auto.*all.*closed-form.*jax"):
        verify(p, correct(p), witness="torch")


def test_the_same_seed_draws_the_same_directions():
    p = relu_net()
    grads = with_entry_off(p, 1e-3)
    first, again = verify(p, grads, seed=7), verify(p, grads, seed=7)
    other = verify(p, grads, seed=8)
    values = [[e.actual for c in r.comparisons if c.witnesses[1] == FD for e in c.worst] for r in (first, again, other)]
    assert values[0] == values[1] != values[2]


def test_a_directional_record_prints_the_allowance_it_added():
    p = relu_net()
    record = next(c for c in verify(p, correct(p)).comparisons if c.witnesses[1] == FD)
    assert record.verdict is Verdict.PASS and record.allowance > 0
    assert "plus up to" in render(record) and "own error" in render(record)


def test_gradients_of_the_wrong_shape_or_kind_fail_with_the_reason():
    p = relu_net()
    grads = correct(p)
    grads["W1"] = grads["W1"].T
    result = verify(p, grads)
    notes = {c.note for c in result.failures}
    assert any("transposed" in (n or "") for n in notes)
    assert any("must be a real array of shape (20, 16)" in (n or "") for n in notes)


@pytest.mark.parametrize("problem, grads, message", [
    ("not a problem", {}, "problem must be a gradcheck.Problem"),
    (None, [1, 2], "gradients must be a dict"),
    (None, {"W1": 0}, "missing W2"),
    (None, {"W1": 0, "W2": 0, "b1": 0}, "unexpected b1"),
])
def test_bad_arguments_say_what_was_expected(problem, grads, message):
    with pytest.raises(InvalidArgument, match=message):
        verify(relu_net() if problem is None else problem, grads)


def test_directions_must_be_a_positive_count_or_zero():
    p = relu_net()
    assert len(verify(p, correct(p), directions=0).comparisons) == 4
    with pytest.raises(InvalidArgument, match="directions"):
        verify(p, correct(p), directions=-1)


def test_richardson_directions_near_a_kink_are_inconclusive_rather_than_failed():
    p = near_kink(relu_net((60, 40, 10), m=16, seed=5), 1e-9)
    result = verify(p, correct(p), method="richardson")
    along_W1 = [c for c in result.comparisons if c.tensor.startswith("W1·")]
    assert result.inconclusive and not result.passed and not result.failures
    assert all(c.verdict is Verdict.INCONCLUSIVE and "kink" in c.not_checkable_reason for c in along_W1)
    assert verify(relu_net(), correct(relu_net()), method="richardson").passed


def test_the_direction_witness_alone_judges_any_subset_and_refuses_unknown_names():
    p = relu_net()
    grads = correct(p)
    records = along_directions(p, {"W2": grads["W2"]}, directions=3)
    assert [c.tensor for c in records] == ["W2·v1", "W2·v2", "W2·v3"] and all(c.passed for c in records)
    assert not all(c.passed for c in along_directions(p, {"W2": -grads["W2"]}))
    with pytest.raises(InvalidArgument, match="may name only this network's parameters, W1, W2; got G1"):
        along_directions(p, {"G1": grads["W1"]})


def test_float32_gradients_three_percent_off_fail_the_direction_witness_alone():
    problem = make_problem(Architecture.build((100, 64, 10), hidden="relu"), m=64, seed=0)
    right = closed_form(problem)["W1"]
    assert all(c.verdict is Verdict.PASS for c in along_directions(problem, {"W1": right.astype(np.float32)}))
    wrong = along_directions(problem, {"W1": (1.03 * right).astype(np.float32)})
    assert all(c.verdict is Verdict.FAIL for c in wrong)


def test_float32_arithmetic_returned_as_float64_is_judged_as_float32_and_a_real_bug_still_fails():
    p = relu_net((60, 40, 10), m=16)
    widened = {k: v.astype(np.float64) for k, v in float32_backprop(p).items()}
    result = verify(p, widened)
    assert result.passed and {c.tolerance.rtol for c in result.comparisons} == {1e-4}
    still_float32 = (1.01 * widened["W1"]).astype(np.float32).astype(np.float64)  # float32 values, 1% off
    assert verify(p, {**widened, "W1": still_float32}).verdict is Verdict.FAIL


def test_gradients_that_are_not_arrays_are_told_so_not_a_traceback():
    p = relu_net((4, 3, 2), m=3)
    with pytest.raises(InvalidArgument, match="yours W1 must be an array of numbers"):
        verify(p, {"W1": [[1.0, 2.0], [3.0]], "W2": correct(p)["W2"]})


def test_a_tensor_no_direction_can_judge_is_judged_by_jax_as_well_by_default():
    # every hidden unit sits exactly on ReLU's kink for every example: W1's directions would see nothing
    arch = Architecture.build((3, 2, 2), hidden="relu")
    W1 = np.array([[1.0, 2.0], [-1.0, -2.0], [0.0, 0.0]])
    X = np.array([[0.5, 0.5, 1.0], [-1.0, -1.0, 2.0], [2.0, 2.0, -1.0]])
    p = Problem(arch, mlp.Params((W1, np.array([[0.3, -0.2], [0.1, 0.4]])), (None, None)), X, np.array([0, 1, 1]))
    result = verify(p, correct(p))
    judged = [c.witnesses[1] for c in result.comparisons if c.tensor.split("·")[0] == "W1"]
    assert judged == [CLOSED_FORM, JAX]
