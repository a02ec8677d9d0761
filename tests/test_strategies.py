"""Hypothesis strategies: valid problems across every knob, bad knobs refused at once, failures that shrink."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcheck.problems import KINK_MARGIN
from gradcheck.strategies import architectures, problems
from gradcheck.testing import GradientMismatch, assert_mlp_grads, assert_two_layer_grads
from gradcheck.witnesses import make_problem
from reference_mlp import Architecture, InvalidArgument, mlp

sys.path.insert(0, str(pathlib.Path(__file__).parent / "corpus"))
import mlp_grads_correct  # noqa: E402
import two_layer_grads_missing_sigma_prime  # noqa: E402


@settings(max_examples=40)
@given(arch=architectures(min_depth=2, max_depth=4, min_width=2, max_width=5, min_classes=3, max_classes=4,
                          activations=["tanh", "leaky_relu:0.2"], bias=st.booleans()))
def test_architectures_stay_inside_their_knobs(arch):
    assert 2 <= arch.depth <= 4
    assert all(2 <= w <= 5 for w in arch.widths[:-1]) and 3 <= arch.widths[-1] <= 4
    assert {a.label for a in arch.activations[:-1]} <= {"tanh", "leaky_relu:0.2"}
    assert arch.activations[-1].name == "identity" and len(set(arch.bias)) == 1


@settings(max_examples=40)
@given(problem=problems(min_batch=2, max_batch=5, reduction=st.sampled_from(["mean", "sum"]), dtype=np.float32,
                        labels=np.uint8))
def test_problems_are_consistent_and_typed_as_asked(problem):
    m, n = problem.X.shape
    assert 2 <= m <= 5 and n == problem.arch.widths[0]
    assert problem.X.dtype == np.float32 and all(W.dtype == np.float32 for W in problem.params.W)
    assert problem.y.dtype == np.uint8 and problem.y.max() < problem.arch.widths[-1]
    assert problem.reduction in ("mean", "sum")


@settings(max_examples=30)
@given(problem=problems(architectures(activations=["relu", "leaky_relu"])))
def test_avoiding_kinks_keeps_every_pre_activation_clear_of_them(problem):
    for a, sigma in zip(mlp.forward(problem.arch, problem.params, problem.X).A, problem.arch.activations):
        if sigma.kinks:
            assert np.min(np.abs(a)) > KINK_MARGIN


@settings(max_examples=30, suppress_health_check=[HealthCheck.filter_too_much])
@given(problem=problems(architectures(min_depth=2, activations=["relu"]), kinks="touch"))
def test_touching_a_kink_puts_a_pre_activation_on_it(problem):
    first = mlp.forward(problem.arch, problem.params, problem.X).A[0]
    assert np.min(np.abs(first)) < 1e-12


@settings(max_examples=25)
@given(problem=problems(architectures(min_depth=2, max_depth=3, activations=["relu", "sigmoid", "tanh"])))
def test_a_correct_implementation_passes_on_every_drawn_problem(problem):
    assert_mlp_grads(mlp_grads_correct.mlp_grads, problem=problem, witness="closed-form")


def test_a_failing_property_shrinks_to_the_smallest_network_and_the_report_shows_it():
    @settings(max_examples=50, derandomize=True, database=None)
    @given(problems(architectures(min_depth=2, max_depth=2, activations=["sigmoid"]), max_batch=6))
    def prop(problem):
        assert_two_layer_grads(two_layer_grads_missing_sigma_prime.two_layer_grads, problem=problem,
                               witness="closed-form")

    with pytest.raises(GradientMismatch) as info:
        prop()
    first = str(info.value).splitlines()[1]
    assert "[given (1-1-2 sigmoid, m=1, mean)]" in first


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: architectures(min_depth=3, max_depth=2), "min_depth=3 is greater than max_depth=2; no value fits. Consider max_depth=3."),
        (lambda: architectures(min_width=0), "min_width must be an integer ≥ 1; got 0. Consider min_width=1."),
        (lambda: architectures(activations="relu"), "activations must be a non-empty list of names"),
        (lambda: architectures(activations=["swish"]), "unknown activation 'swish'"),
        (lambda: architectures(bias="yes"), "bias must be True, False or a strategy of booleans"),
        (lambda: problems(min_batch=0), "min_batch must be an integer ≥ 1"),
        (lambda: problems(reduction="avg"), "reduction must be 'mean' or 'sum'; got 'avg'."),
        (lambda: problems(dtype=np.int32), "dtype must be float32 or float64; got int32."),
        (lambda: problems(labels=np.float64), "labels must be an integer dtype"),
        (lambda: problems(kinks="near"), "kinks must be 'avoid' or 'touch'"),
        (lambda: problems((3, 4, 2)), "architecture must be an Architecture or a strategy of them; got tuple."),
    ],
)
def test_bad_knobs_are_refused_when_the_strategy_is_built(build, message):
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        build()


def test_a_problem_for_the_wrong_convention_is_refused_with_the_reason():
    problem = make_problem(Architecture.build((3, 4, 4, 2), hidden="tanh"))
    with pytest.raises(InvalidArgument, match="this convention needs a 2-layer problem; got 3 layers"):
        assert_two_layer_grads(two_layer_grads_missing_sigma_prime.two_layer_grads, problem=problem)
