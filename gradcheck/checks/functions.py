"""Gradient functions: ``two_layer_grads(X, y, W1, W2)`` and ``mlp_grads(X, y, Ws, activation=…)``."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from gradcheck import adapters, diagnose, equations, problems
from gradcheck.checks.common import (
    DEFAULT_ACTIVATIONS, accepts, callable_or_raise, judge_cases, measure, oracle_gradients, precision_summary,
    resolve_together, testify,
)
from gradcheck.checks.result import CheckResult, settle
from gradcheck.compare import compare
from gradcheck.problems import Case
from gradcheck.witnesses import Problem
from reference_mlp import activations as act
from reference_mlp.mlp import Architecture
from reference_mlp.validation import InvalidArgument, check_choice, check_positive_int

DIRECTIONS = 2  # random directions per tensor for the finite-difference witness


def given_problem(problem: Any, depth: int | None = None) -> Problem:
    """Return ``problem`` if gradient functions can be checked on it (no bias, one hidden σ), or raise."""
    if not isinstance(problem, Problem):
        raise InvalidArgument(f"problem must be a gradcheck Problem (see gradcheck.strategies); got {type(problem).__name__}.")
    arch = problem.arch
    if depth is not None and arch.depth != depth:
        raise InvalidArgument(f"this convention needs a {depth}-layer problem; got {arch.depth} layers ({arch.describe()}).")
    if any(arch.bias) or arch.activations[-1].name != "identity" or len({a.label for a in arch.activations[:-1]}) > 1:
        raise InvalidArgument(
            f"gradient functions take weights only: the problem needs no bias, one hidden activation and a linear "
            f"last layer; got {arch.describe()}."
        )
    return problem


def weights(p: Problem) -> tuple[str, ...]:
    """``("W1", …, "WL")`` for the problem's L layers."""
    return tuple(f"W{i}" for i in range(1, p.arch.depth + 1))


def check_two_layer_grads(
    fn: Callable,
    *,
    activation: str = "relu",
    reduction: str = "mean",
    seed: int = 0,
    order: Sequence[str] = ("X", "y", "W1", "W2"),
    keys: Mapping[str, str] | None = None,
    dtype: Any = np.float64,
    problem: Problem | None = None,
    require_stability: bool = False,
) -> CheckResult:
    """Check ``fn(X, y, W1, W2) -> (dW1, dW2)`` against Eqs. 10 and 11.

    ``activation`` is the hidden σ the code implements; ``order`` the order of
    its arguments; ``keys`` the dict keys it returns (``{"W1": "grad1"}``).
    With ``problem`` (e.g. drawn by ``gradcheck.strategies``) only that problem
    is checked, with its own activation and reduction. NaN or infinity on the
    large-logits problem is a warning unless ``require_stability``.
    """
    fn = callable_or_raise(fn, "fn")
    sigma = act.get(activation)
    check_choice("reduction", reduction, ("mean", "sum"))
    if sorted(order) != ["W1", "W2", "X", "y"]:
        raise InvalidArgument(f"order must name X, y, W1 and W2 once each; got {tuple(order)}.")
    target = getattr(fn, "__name__", "fn")
    if problem is not None:
        sigma = given_problem(problem, depth=2).arch.activations[0]
        cases = [Case("given", problem, "the problem you supplied", problem.seed)]
    else:
        cases = problems.cases(lambda w: Architecture.build(w, hidden=sigma), depth=2, seed=seed,
                               reduction=reduction, dtype=dtype)

    def run(p: Problem) -> adapters.Call:
        values = {"X": p.X, "y": p.y, "W1": p.params.W[0], "W2": p.params.W[1]}
        return adapters.call(fn, [values[n] for n in order], list(order))

    read = lambda p, c: adapters.as_gradients(c.output, ("W1", "W2"), what=target, keys=keys)
    measured = measure(cases[0], run, ("W1", "W2"), read)
    results = judge_cases(target, cases, run, ("W1", "W2"), read,
                          lambda n: equations.EQ11 if n == "W1" else equations.EQ10, directions=DIRECTIONS,
                          precision=measured)
    found = _another_order(fn, cases[0].problem, order, read)
    if found:
        results = [diagnose.with_diagnosis(r, found) if r.failed else r for r in results]
    return settle(target, f"gradient function, σ = {sigma.label}", results, seed, require_stability=require_stability,
                  precision=precision_summary({target: measured}))


def _another_order(fn: Callable, problem: Problem, order: Sequence[str], read: Callable) -> diagnose.Diagnosis | None:
    """"Your function takes (W1, W2, X, y)": found when the expected order raises and another order of
    the same arrays gives the right gradients."""
    values = {"X": problem.X, "y": problem.y, "W1": problem.params.W[0], "W2": problem.params.W[1]}
    if not adapters.call(fn, [values[n] for n in order], list(order)).error:
        return None
    truth = oracle_gradients(problem, ("W1", "W2"))
    name = getattr(fn, "__name__", "fn")
    for other in itertools.permutations(order):
        if list(other) == list(order):
            continue
        call = adapters.call(fn, [values[n] for n in other], list(other))
        given = None if call.error else read(problem, call)
        if isinstance(given, dict) and all(compare(given[n], truth[n], tensor=n).passed for n in ("W1", "W2")):
            theirs = ", ".join(other)
            return diagnose.Diagnosis(
                diagnose.CATALOG["argument_order"], f"called as {name}({theirs}) it gives the right gradients on the "
                f"{problem.describe()} problem", cause=f"your {name} takes its arguments in another order, "
                f"({theirs}); the handout's signature is {name}({', '.join(order)})",
                fix=f"define it as def {name}({', '.join(order)}), or check it with order=({theirs})")
    return None


DERIVATIVES = {"relu": "relu'(a) = 1 where a > 0, else 0", "sigmoid": "σ'(a) = s(1 − s) with s = σ(a)",
               "tanh": "tanh'(a) = 1 − tanh(a)²"}


def check_mlp_grads(
    fn: Callable,
    *,
    activations: Sequence[str] | None = None,
    depth: int | None = None,
    activation_arg: str = "activation",
    reduction: str = "mean",
    seed: int = 0,
    keys: Mapping[str, str] | None = None,
    dtype: Any = np.float64,
    problem: Problem | None = None,
    require_stability: bool = False,
) -> CheckResult:
    """Check ``fn(X, y, Ws, activation=…) -> [dW₁..dW_L]`` against Eq. 15 for each of ``activations``.

    ``activations`` are those your code supports (default: relu, sigmoid and
    tanh); one it rejects fails, with a note saying how to declare fewer.
    ``depth`` fixes the number of layers; by default each problem draws its
    own from the seed (1 to 5, one of them 4 or more). With ``problem`` only
    that problem is checked, with its own depth and activation.
    """
    fn = callable_or_raise(fn, "fn")
    if problem is not None:
        depth = given_problem(problem).arch.depth
        activations = (problem.arch.activations[0].label,)
    depth = None if depth is None else check_positive_int("depth", depth)
    check_choice("reduction", reduction, ("mean", "sum"))
    target = getattr(fn, "__name__", "fn")
    declared = activations is not None
    activations = DEFAULT_ACTIVATIONS if activations is None else activations
    if isinstance(activations, str) or not activations:
        raise InvalidArgument(f"activations must list at least one activation name, e.g. ('relu', 'tanh'); got {activations!r}.")
    takes_activation = accepts(fn, activation_arg)
    sigmas = [act.get(a) for a in (activations if takes_activation else activations[:1])]
    pending, measured = {}, {}
    for sigma in sigmas:
        cases = ([Case("given", problem, "the problem you supplied", problem.seed)] if problem is not None else
                 problems.cases(lambda w: Architecture.build(w, hidden=sigma), depth=depth, seed=seed,
                                reduction=reduction, dtype=dtype))

        def run(p: Problem, sigma=sigma) -> adapters.Call:
            kwargs = {activation_arg: sigma.label} if takes_activation else {}
            return adapters.call(fn, [p.X, p.y, list(p.params.W)], ["X", "y", "Ws"], kwargs=kwargs)

        def read(p: Problem, c: adapters.Call) -> dict[str, np.ndarray] | str:
            return adapters.as_gradients(c.output, weights(p), what=target, keys=keys)

        measured[sigma.label] = measure(cases[0], run, weights(cases[0].problem), read)
        pending[sigma.label] = testify(
            target, cases, run, weights, read, lambda n: equations.eq15(int(n[1:])), directions=DIRECTIONS,
            precision=measured[sigma.label])
    # One diagnosis for every failing activation: a mistake must explain the cases of each σ it would change.
    # An activation that passes everywhere is another branch of the code, and testifies to nothing.
    failing = [label for label, part in pending.items() if any(r.failed for _, records, *_ in part.outcomes
                                                               for r in records)]
    by_activation = dict(zip(failing, resolve_together(*(pending[label] for label in failing))))
    for label in pending:
        if label not in failing:
            (by_activation[label],) = [pending[label].resolve([None] * len(pending[label].trials))]
    passing = [label for label in pending if label not in failing]
    if passing and failing:
        for label in failing:
            hint = (f"only σ = {label} fails ({', '.join(passing)} pass{'es' if len(passing) == 1 else ''}): "
                    f"look at {label}'s own code, its derivative above all: {DERIVATIVES.get(label, 'σ′')}")
            by_activation[label] = [replace(r, diagnosis=f"{r.diagnosis} {hint[0].upper()}{hint[1:]}." if r.diagnosis
                                            else f"cause unknown; {hint}") if r.failed else r
                                    for r in by_activation[label]]
    by_activation = {label: by_activation[label] for label in pending}
    raised_everywhere = [label for label, rs in by_activation.items() if all(r.note and " raised " in r.note for r in rs)]
    if raised_everywhere and len(raised_everywhere) < len(by_activation) and not declared:
        works = [label for label in by_activation if label not in raised_everywhere]
        hint = (f"; it rejects σ = {', '.join(raised_everywhere)}. If it supports only {', '.join(works)}, say so: "
                + " ".join(f"--activation {w}" for w in works) + f" or activations={tuple(works)!r}")
        for label in raised_everywhere:
            by_activation[label] = [replace(r, note=r.note + hint) if r.note else r for r in by_activation[label]]
    unsupported = ()
    results = tuple(r for rs in by_activation.values() for r in rs)
    return settle(target, "gradient function, σ ∈ {" + ", ".join(by_activation) + "}", results, seed,
                  require_stability=require_stability, unsupported=unsupported,
                  precision=precision_summary(
                      {target: next(iter(measured.values()))} if len({m.words() for m in measured.values()}) == 1 else
                      {f"{target} ({label})": measured[label] for label in by_activation}))
