"""Public checks of user code, one per calling convention courses use.

Each check generates seeded problems (``gradcheck.problems``), calls the user's
code through ``gradcheck.adapters``, compares every gradient with the JAX
oracle, and diagnoses failures (``gradcheck.diagnose``). The result is a
:class:`CheckResult`: a tuple of :class:`~gradcheck.compare.Comparison`
records plus the activations the code declined, rendered by ``gradcheck.report``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from gradcheck import adapters, diagnose, equations, problems
from gradcheck.compare import Comparison, Verdict, compare, failed
from gradcheck.problems import Case
from gradcheck.report import render, summary
from gradcheck.witnesses import Problem, jax_autodiff
from reference_mlp import activations as act
from reference_mlp import mlp
from reference_mlp.mlp import Architecture, Params
from reference_mlp.validation import InvalidArgument, check_choice, check_positive_float, check_positive_int

YOURS = "yours"
ORACLE = "JAX"
DEFAULT_ACTIVATIONS = ("relu", "sigmoid", "tanh")


class GradientMismatch(AssertionError):
    """A gradient of user code disagrees with the oracle; the message is the full report."""


@dataclass(frozen=True)
class CheckResult:
    """Every comparison one check made, and what the code declined to do."""

    target: str
    convention: str
    comparisons: tuple[Comparison, ...]
    seed: int
    unsupported: tuple[str, ...] = ()

    @property
    def failures(self) -> tuple[Comparison, ...]:
        """The comparisons whose verdict is FAIL."""
        return tuple(c for c in self.comparisons if c.verdict is Verdict.FAIL)

    @property
    def passed(self) -> bool:
        """True when no comparison failed and at least one was made."""
        return bool(self.comparisons) and not self.failures

    @property
    def diagnoses(self) -> tuple[str, ...]:
        """The distinct bug ids diagnosed, in order of first appearance."""
        return tuple(dict.fromkeys(c.bug for c in self.failures if c.bug))

    def headline(self) -> str:
        """One line: ``two_layer_grads: FAIL, 3 of 8 comparisons failed (seed 0)``."""
        if self.passed:
            return f"{self.target}: PASS, all {len(self.comparisons)} comparisons agree ({self.convention}, seed {self.seed})"
        return (f"{self.target}: FAIL, {len(self.failures)} of {len(self.comparisons)} comparisons failed "
                f"({self.convention}, seed {self.seed})")

    def render(self, *, verbose: bool = False) -> str:
        """The headline, one summary line per comparison, then every failure in full.

        Failures repeated across cases with the same diagnosis are shown in full once.
        """
        lines = [self.headline()]
        lines += [f"  unsupported: {u}" for u in self.unsupported]
        lines += [f"  {summary(c)} [{c.problem}]" for c in self.comparisons]
        shown, blocks = set(), []
        for c in self.comparisons if verbose else self.failures:
            key = (c.tensor, c.bug, c.note is not None)
            if key in shown and not verbose:
                continue
            shown.add(key)
            blocks.append(render(c))
        return "\n\n".join(["\n".join(lines), *blocks])

    def raise_if_failed(self) -> "CheckResult":
        """Raise :class:`GradientMismatch` with the report if anything failed; return self otherwise."""
        __tracebackhide__ = True
        if not self.passed:
            raise GradientMismatch(self.render())
        return self


# ---------------------------------------------------------------------------
# Gradient functions: two_layer_grads(X, y, W1, W2), mlp_grads(X, y, Ws, activation=…)


def _oracle(problem: Problem, names: Sequence[str]) -> dict[str, np.ndarray]:
    truth = jax_autodiff(problem)
    return {n: truth[n] for n in names}


def _pattern_diagnosis(case: Case, records: Sequence[Comparison], cases_failing: set[str]) -> diagnose.Diagnosis | None:
    """Diagnoses that show in which case failed rather than in the numbers."""
    nonfinite = any(c.note and "NaN" in c.note for c in records)
    if nonfinite and case.name == "large logits" and cases_failing <= {"large logits"}:
        return diagnose.known("softmax_overflow", "your gradients are NaN or infinite only when the logits are large")
    if case.name == "uint8 labels missing a class" and cases_failing <= {case.name}:
        return diagnose.known("one_hot_sized_by_labels", "only the batch without the largest class fails")
    return None


def _judge_cases(
    target: str,
    cases: Sequence[Case],
    run: Callable[[Problem], adapters.Call],
    names: Sequence[str],
    read: Callable[[Problem, adapters.Call], dict[str, np.ndarray] | str],
    equation_of: Callable[[str], equations.Equation],
    *,
    shown: Mapping[str, str] | None = None,
    yours: str = YOURS,
    explain: Callable[[Problem, dict, dict], diagnose.Diagnosis] = diagnose.diagnose,
) -> list[Comparison]:
    """Run the user's code on every case, compare with the oracle and diagnose what fails.

    ``read`` turns a call into gradients keyed by ``names`` (or says why it
    cannot); ``shown`` renames tensors for the report (``W1`` → ``theta``).
    """
    shown = shown or {n: n for n in names}
    outcomes = []
    for case in cases:
        call = run(case.problem)
        truth = _oracle(case.problem, names)
        context = dict(witnesses=(yours, ORACLE), problem=case.describe(), seed=case.problem.seed)
        given = read(case.problem, call) if not call.error else f"your {target} raised {call.error}"
        if isinstance(given, str):
            records = [failed(shown[n], truth[n].shape, given, equation=equation_of(n), **context) for n in names]
            given = None
        else:
            records = [compare(given[n], truth[n], tensor=shown[n], equation=equation_of(n), **context) for n in names]
        outcomes.append((case, records, given, truth, _mutations(call, case)))
    failing = {case.name for case, records, *_ in outcomes if any(not r.passed for r in records)}
    results = []
    for case, records, given, truth, mutated in outcomes:
        if any(not r.passed for r in records):
            found = _pattern_diagnosis(case, records, failing)
            if found is None and given is not None:
                found = explain(case.problem, given, truth)
            records = [r if r.passed else diagnose.with_diagnosis(r, found) for r in records]
        results.extend(records)
        results.extend(mutated)
    return results


def _accepts(fn: Callable, name: str) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _callable(fn: Any, what: str) -> Callable:
    if not callable(fn):
        raise InvalidArgument(f"{what} must be a function; got {type(fn).__name__} {fn!r}.")
    return fn


def check_two_layer_grads(
    fn: Callable,
    *,
    activation: str = "relu",
    reduction: str = "mean",
    seed: int = 0,
    order: Sequence[str] = ("X", "y", "W1", "W2"),
    keys: Mapping[str, str] | None = None,
    dtype: Any = np.float64,
) -> CheckResult:
    """Check ``fn(X, y, W1, W2) -> (dW1, dW2)`` against Eqs. 10 and 11.

    ``activation`` is the hidden σ the code implements; ``order`` the order of
    its arguments; ``keys`` the dict keys it returns (``{"W1": "grad1"}``).
    """
    fn = _callable(fn, "fn")
    sigma = act.get(activation)
    check_choice("reduction", reduction, ("mean", "sum"))
    if sorted(order) != ["W1", "W2", "X", "y"]:
        raise InvalidArgument(f"order must name X, y, W1 and W2 once each; got {tuple(order)}.")
    target = getattr(fn, "__name__", "fn")
    cases = problems.cases(lambda w: Architecture.build(w, hidden=sigma), depth=2, seed=seed, reduction=reduction, dtype=dtype)

    def run(p: Problem) -> adapters.Call:
        values = {"X": p.X, "y": p.y, "W1": p.params.W[0], "W2": p.params.W[1]}
        return adapters.call(fn, [values[n] for n in order], list(order))

    results = _judge_cases(target, cases, run, ("W1", "W2"),
                           lambda p, c: adapters.as_gradients(c.output, ("W1", "W2"), what=target, keys=keys),
                           lambda n: equations.EQ11 if n == "W1" else equations.EQ10)
    return CheckResult(target, f"gradient function, σ = {sigma.label}", tuple(results), seed)


def check_mlp_grads(
    fn: Callable,
    *,
    activations: Sequence[str] = DEFAULT_ACTIVATIONS,
    depth: int = 3,
    activation_arg: str = "activation",
    reduction: str = "mean",
    seed: int = 0,
    keys: Mapping[str, str] | None = None,
    dtype: Any = np.float64,
) -> CheckResult:
    """Check ``fn(X, y, Ws, activation=…) -> [dW₁..dW_L]`` against Eq. 15 for every activation it accepts.

    An activation for which the code raises on every problem, while it works
    for another, is reported as unsupported rather than failed.
    """
    fn = _callable(fn, "fn")
    depth = check_positive_int("depth", depth)
    check_choice("reduction", reduction, ("mean", "sum"))
    target = getattr(fn, "__name__", "fn")
    names = tuple(f"W{i}" for i in range(1, depth + 1))
    takes_activation = _accepts(fn, activation_arg)
    sigmas = [act.get(a) for a in (activations if takes_activation else activations[:1])]
    by_activation = {}
    for sigma in sigmas:
        cases = problems.cases(lambda w: Architecture.build(w, hidden=sigma), depth=depth, seed=seed,
                               reduction=reduction, dtype=dtype)

        def run(p: Problem, sigma=sigma) -> adapters.Call:
            kwargs = {activation_arg: sigma.label} if takes_activation else {}
            return adapters.call(fn, [p.X, p.y, list(p.params.W)], ["X", "y", "Ws"], kwargs=kwargs)

        by_activation[sigma.label] = _judge_cases(
            target, cases, run, names,
            lambda p, c: adapters.as_gradients(c.output, names, what=target, keys=keys),
            lambda n: equations.eq15(int(n[1:])))
    raised_everywhere = {label for label, rs in by_activation.items() if all(r.note and " raised " in r.note for r in rs)}
    unsupported = ()
    if raised_everywhere and raised_everywhere != set(by_activation):
        unsupported = tuple(f"{label}: {next(r.note for r in by_activation[label])}" for label in raised_everywhere)
        for label in raised_everywhere:
            del by_activation[label]
    results = tuple(r for rs in by_activation.values() for r in rs)
    return CheckResult(target, "gradient function, σ ∈ {" + ", ".join(s.label for s in sigmas) + "}", results, seed, unsupported)


# ---------------------------------------------------------------------------
# SGD epochs (nn_epoch, softmax_regression_epoch) and softmax_loss, DLSys hw0 style


def _with_uint8_labels(case: Case) -> Case:
    return replace(case, problem=replace(case.problem, y=np.asarray(case.problem.y).astype(np.uint8)))


def _check_epoch(
    fn: Callable, target: str, weights: Sequence[str], build: Callable[[Sequence[int]], Architecture],
    depth: int, lr: float, batch: int, seed: int,
) -> CheckResult:
    names = tuple(f"W{i}" for i in range(1, depth + 1))
    shown = dict(zip(names, weights))
    lr = check_positive_float("lr", lr)
    batch = check_positive_int("batch", batch)
    m_epoch = 3 * batch + max(1, batch // 3)  # three full batches and a partial one
    one_step = [_with_uint8_labels(c) for c in problems.cases(build, depth=depth, seed=seed) if c.name != "square"]
    epoch_problem = problems.draw(build((6, 7, 5, 4)[:depth] + (3,)), m=m_epoch, seed=seed + 10)
    epoch_case = _with_uint8_labels(Case(f"one epoch, m={m_epoch}, batch={batch}", epoch_problem,
                                         "several minibatches and a partial last one"))

    def run(p: Problem, rows_per_batch: int) -> adapters.Call:
        return adapters.call(fn, [p.X, p.y, *p.params.W], ["X", "y", *weights],
                             kwargs={"lr": lr, "batch": rows_per_batch}, may_change=weights)

    def deltas(p: Problem, c: adapters.Call) -> dict[str, np.ndarray] | str:
        after = {n: adapters.as_float_array(w) for n, w in zip(names, c.inputs_after[2:])}
        bad = next((f"{shown[n]} {v}" for n, v in after.items() if isinstance(v, str)), None)
        if bad:
            return bad
        moved = {n: after[n] - p.params.W[i] for i, n in enumerate(names)}
        if not any(np.any(d != 0) for d in moved.values()):
            return (f"the weights did not change: {target} must update {', '.join(weights)} in place "
                    f"({weights[0]} -= lr * grad) and return None")
        return moved

    def inferred(p: Problem, c: adapters.Call) -> dict[str, np.ndarray] | str:
        moved = deltas(p, c)
        return moved if isinstance(moved, str) else {n: -d / lr for n, d in moved.items()}  # W_after = W_before − lr·∇W

    def explain(p: Problem, given: dict, truth: dict) -> diagnose.Diagnosis:
        as_step = lambda grads: {n: -lr * g for n, g in grads.items()}
        return diagnose.diagnose_epoch(p, as_step(given), as_step(truth), lr, len(p.X))

    results = _judge_cases(target, one_step, lambda p: run(p, len(p.X)), names, inferred,
                           lambda n: _two_layer_equation(n, depth), shown=shown,
                           yours=f"{YOURS} (from one SGD step)", explain=explain)
    results += _judge_epoch(fn, target, epoch_case, names, shown, lr, batch, run, deltas)
    return CheckResult(target, f"SGD epoch, lr={lr:g}, batch={batch}", tuple(results), seed)


def _two_layer_equation(name: str, depth: int) -> equations.Equation:
    return equations.for_tensor(name, depth, two_layer_form=True)


def _mutations(c: adapters.Call, case: Case) -> list[Comparison]:
    return [diagnose.with_diagnosis(replace(m, problem=case.describe(), seed=case.problem.seed),
                                    diagnose.known("inputs_mutated", f"{m.tensor} changed during the call"))
            for m in c.mutated]


def _judge_epoch(fn, target, case, names, shown, lr, batch, run, deltas) -> list[Comparison]:
    from reference_mlp.train import sgd_epoch

    p = case.problem
    first, second = run(p, batch), run(p, batch)
    after = sgd_epoch(p.arch, p.params, p.X, p.y, lr=lr, batch=batch)
    truth = {n: a - b for n, a, b in zip(names, after.W, p.params.W)}
    ctx = dict(witnesses=(YOURS, "reference SGD"), equation=equations.SGD, problem=case.describe(), seed=p.seed)
    moved = None if first.error else deltas(p, first)
    if first.error or isinstance(moved, str):
        note = f"your {target} raised {first.error}" if first.error else moved
        return [failed(f"Δ{shown[n]}", truth[n].shape, note, **ctx) for n in names] + _mutations(first, case)
    records = [compare(moved[n], truth[n], tensor=f"Δ{shown[n]}", **ctx) for n in names]
    if any(not r.passed for r in records):
        again = None if second.error else deltas(p, second)
        if isinstance(again, dict) and any(not np.array_equal(again[n], moved[n]) for n in names):
            found = diagnose.known("shuffles", "two epochs on the same data and weights ended with different weights")
        else:
            found = diagnose.diagnose_epoch(p, moved, truth, lr, batch)
        records = [r if r.passed else diagnose.with_diagnosis(r, found) for r in records]
    return records + _mutations(first, case)


def check_nn_epoch(fn: Callable, *, lr: float = 0.1, batch: int = 16, activation: str = "relu", seed: int = 0) -> CheckResult:
    """Check ``nn_epoch(X, y, W1, W2, lr=…, batch=…)``, which updates W1 and W2 in place.

    One step on one batch gives the gradients, (W_before − W_after)/lr, checked
    against Eqs. 10 and 11; a whole epoch (several batches, a partial last one)
    is checked against the reference SGD. Labels are uint8, as in the course.
    """
    fn = _callable(fn, "nn_epoch")
    sigma = act.get(activation)
    return _check_epoch(fn, getattr(fn, "__name__", "nn_epoch"), ("W1", "W2"),
                        lambda w: Architecture.build(w, hidden=sigma), 2, lr, batch, seed)


def check_softmax_regression_epoch(fn: Callable, *, lr: float = 0.1, batch: int = 16, seed: int = 0) -> CheckResult:
    """Check ``softmax_regression_epoch(X, y, theta, lr=…, batch=…)``, which updates theta in place."""
    fn = _callable(fn, "softmax_regression_epoch")
    return _check_epoch(fn, getattr(fn, "__name__", "softmax_regression_epoch"), ("theta",),
                        lambda w: Architecture.build(w), 1, lr, batch, seed)


def check_softmax_loss(fn: Callable, *, seed: int = 0) -> CheckResult:
    """Check ``softmax_loss(Z, y) -> mean loss`` on ordinary logits, uint8 labels and logits near 1000."""
    fn = _callable(fn, "softmax_loss")
    target = getattr(fn, "__name__", "softmax_loss")
    results = []
    for case in problems.cases(lambda w: Architecture.build(w), depth=1, seed=seed):
        p = case.problem
        h = mlp.forward(p.arch, p.params, p.X).Z[-1]
        expected = np.array(mlp.loss(p.arch, p.params, p.X, p.y, "mean"))
        c = adapters.call(fn, [h, p.y], ["Z", "y"])
        ctx = dict(witnesses=(YOURS, "reference"), equation=equations.LOSS, problem=case.describe(), seed=p.seed)
        value = None if c.error else adapters.as_float_array(c.output)
        if c.error or isinstance(value, str) or np.shape(value) not in ((), (1,)):
            note = (f"your {target} raised {c.error}" if c.error else
                    f"{target} must return the mean loss as one number; it returned {value if isinstance(value, str) else np.shape(value)}")
            results.append(failed("loss", (), note, **ctx))
        else:
            record = compare(np.reshape(value, ()), expected, tensor="loss", **ctx)
            if not record.passed:
                ratio = float(np.reshape(value, ())) / float(expected)
                if not np.isfinite(ratio):
                    found = diagnose.known("softmax_overflow", f"your loss is {float(np.reshape(value, ()))} on logits near {problems.LARGE_LOGITS:g}")
                elif np.isclose(ratio, len(h), rtol=1e-6):
                    found = diagnose.known("sum_instead_of_mean", f"your loss is {ratio:.6g} = m times the mean")
                else:
                    found = diagnose.Diagnosis(None, f"your loss is {ratio:.6g} times the expected one")
                record = diagnose.with_diagnosis(record, found)
            results.append(record)
        results += _mutations(c, case)
    return CheckResult(target, "loss function", tuple(results), seed)
