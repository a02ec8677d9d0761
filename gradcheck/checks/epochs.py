"""SGD epochs and the loss, in the shape of CMU DLSys hw0: ``nn_epoch``, ``softmax_regression_epoch``, ``softmax_loss``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from gradcheck import adapters, diagnose, equations, problems
from gradcheck.checks.common import (
    YOURS, callable_or_raise, logit_scale, measure, mutations, precision_summary, testify, two_layer_equation,
    unstable,
)
from gradcheck.checks.result import CheckResult, settle
from gradcheck.compare import NONFINITE, Comparison, compare, failed
from gradcheck.problems import Case
from gradcheck.witnesses import Problem
from reference_mlp import activations as act
from reference_mlp import mlp
from reference_mlp.mlp import Architecture
from reference_mlp.train import sgd_epoch
from reference_mlp.validation import check_positive_float, check_positive_int


def _with_uint8_labels(case: Case) -> Case:
    return replace(case, problem=replace(case.problem, y=np.asarray(case.problem.y).astype(np.uint8)))


def _check_epoch(
    fn: Callable, target: str, weights: Sequence[str], build: Callable[[Sequence[int]], Architecture],
    depth: int, lr: float, batch: int, seed: int, dtype: Any = np.float64, require_stability: bool = False,
) -> CheckResult:
    names = tuple(f"W{i}" for i in range(1, depth + 1))
    shown = dict(zip(names, weights))
    lr = check_positive_float("lr", lr)
    batch = check_positive_int("batch", batch)
    one_step = [_with_uint8_labels(c) for c in problems.cases(build, depth=depth, seed=seed, dtype=dtype) if c.name != "square"]
    # The epoch's sizes come from the seed too: 2 or 3 full batches and a partial one (m never a
    # multiple of batch), and a second epoch smaller than one batch.
    rng = np.random.default_rng((seed, 0xE90C))
    m_epoch = int(rng.integers(2, 4)) * batch + (int(rng.integers(1, batch)) if batch > 1 else 1)
    m_small = int(rng.integers(1, batch)) if batch > 1 else 1
    widths = problems.shapes(seed + 10, depth)["non-square"].widths
    epoch_cases = [_with_uint8_labels(Case(f"one epoch, m={m}, batch={batch}", problems.draw(
                       build(widths), m=m, seed=seed + offset, dtype=dtype), purpose, seed))
                   for m, offset, purpose in ((m_epoch, 10, "several minibatches and a partial last one"),
                                              (m_small, 11, "fewer examples than one minibatch"))]

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
            # hw1's nn_epoch (needle Tensors) carries its own contract: it returns the new weights
            contract = getattr(fn, "contract", None) or (f"must update {', '.join(weights)} in place "
                                                         f"({weights[0]} -= lr * grad) and return None")
            return f"{UNCHANGED} {target} {contract}"
        return moved

    def inferred(p: Problem, c: adapters.Call) -> dict[str, np.ndarray] | str:
        moved = deltas(p, c)
        return moved if isinstance(moved, str) else {n: -d / lr for n, d in moved.items()}  # W_after = W_before − lr·∇W

    def explain(p: Problem, given: dict | None, truth: dict, failed: bool, narrow: bool) -> diagnose.Trial:
        as_step = lambda grads: {n: -lr * g for n, g in grads.items()}
        return diagnose.epoch_trial(p, None if given is None else as_step(given), as_step(truth), lr, len(p.X),
                                    failed=failed, narrow=narrow)

    def rounding(p: Problem, name: str) -> np.ndarray:
        # (W_before − W_after)/lr loses the last bits of W: one ulp of W, divided by lr.
        W = np.asarray(p.params.W[int(name[1:]) - 1])
        return 2 * np.finfo(W.dtype).eps * np.abs(W) / lr

    step = lambda p: run(p, len(p.X))
    measured = measure(one_step[0], step, names, inferred, shown=shown, noise=rounding)
    steps = testify(target, one_step, step, names, inferred, lambda n: two_layer_equation(n, depth), shown=shown,
                    yours=f"{YOURS} (from one SGD step)", explain=explain, uncertainty=rounding, precision=measured)
    judged = [_judge_epoch(fn, target, epoch_case, names, shown, lr, batch, run, deltas, measured)
              for epoch_case in epoch_cases]
    # One-step and whole-epoch cases are diagnosed together: a mistake must explain each of them.
    epochs = [t for _, t in judged if t is not None]
    found = diagnose.settle(steps.trials + epochs)
    results = steps.resolve(found[:len(steps.trials)])
    settled = found[len(steps.trials):]
    for records, trial in judged:
        diagnosis = settled.pop(0) if trial is not None else None
        results += [diagnose.with_diagnosis(r, diagnosis) if r.failed and not r.diagnosis else r for r in records]
    return settle(target, f"SGD epoch, lr={lr:g}, batch={batch}", results, seed, require_stability=require_stability,
                  precision=precision_summary({target: measured}))


UNCHANGED = "not implemented? the weights did not change:"


def _judge_epoch(fn, target, case, names, shown, lr, batch, run, deltas,
                 measured) -> tuple[list[Comparison], diagnose.Trial | None]:
    """One epoch case: its records, and its testimony about the known mistakes (None if it has none to give)."""
    p = case.problem
    first, second = run(p, batch), run(p, batch)
    after = sgd_epoch(p.arch, p.params, p.X, p.y, lr=lr, batch=batch)
    truth = {n: a - b for n, a, b in zip(names, after.W, p.params.W)}
    ctx = dict(witnesses=(YOURS, "reference SGD"), equation=equations.SGD, problem=case.describe(), seed=case.seed)
    moved = None if first.error else deltas(p, first)
    if first.error or isinstance(moved, str):
        note = f"your {target} raised {first.error}" if first.error else moved
        records = [failed(f"Δ{shown[n]}", truth[n].shape, note, **ctx) for n in names] + mutations(first, case)
        unchanged = not first.error and note.startswith(UNCHANGED)  # numbers after all: every ΔW is zero
        zeros = {n: np.zeros_like(truth[n]) for n in names}
        return records, (diagnose.epoch_trial(p, zeros, truth, lr, batch, narrow=measured.computes_in == np.float32)
                         if unchanged else None)
    tolerance = measured.tolerance_at(logit_scale(p))
    records = [compare(moved[n], truth[n], tensor=f"Δ{shown[n]}", tolerance=tolerance, **ctx) for n in names]
    failing = any(r.failed for r in records)
    if failing:
        again = None if second.error else deltas(p, second)
        if isinstance(again, dict) and any(not np.array_equal(again[n], moved[n]) for n in names):
            found = diagnose.known("shuffles", "two epochs on the same data and weights ended with different weights")
            return [r if not r.failed else diagnose.with_diagnosis(r, found) for r in records] + mutations(first, case), None
    trial = diagnose.Deferred(failing, lambda: diagnose.epoch_trial(p, moved, truth, lr, batch, failed=failing,
                                                                    narrow=measured.computes_in == np.float32))
    return records + mutations(first, case), trial


def check_nn_epoch(fn: Callable, *, lr: float = 0.1, batch: int = 16, activation: str = "relu", seed: int = 0,
                   dtype: Any = np.float64, require_stability: bool = False) -> CheckResult:
    """Check ``nn_epoch(X, y, W1, W2, lr=…, batch=…)``, which updates W1 and W2 in place.

    One step on one batch gives the gradients, (W_before − W_after)/lr, checked
    against Eqs. 10 and 11; a whole epoch (several batches, a partial last one)
    is checked against the reference SGD. Labels are uint8, as in the course.
    ``dtype=np.float32`` feeds float32 data and weights, as the course does, and
    judges the updates with the float32 tolerance. The handout allows a
    direct softmax, so NaN or infinity on the large-logits problem is a
    warning unless ``require_stability``.
    """
    fn = callable_or_raise(fn, "nn_epoch")
    sigma = act.get(activation)
    return _check_epoch(fn, getattr(fn, "__name__", "nn_epoch"), ("W1", "W2"),
                        lambda w: Architecture.build(w, hidden=sigma), 2, lr, batch, seed, dtype, require_stability)


def check_softmax_regression_epoch(fn: Callable, *, lr: float = 0.1, batch: int = 16, seed: int = 0,
                                   dtype: Any = np.float64, require_stability: bool = False) -> CheckResult:
    """Check ``softmax_regression_epoch(X, y, theta, lr=…, batch=…)``, which updates theta in place."""
    fn = callable_or_raise(fn, "softmax_regression_epoch")
    return _check_epoch(fn, getattr(fn, "__name__", "softmax_regression_epoch"), ("theta",),
                        lambda w: Architecture.build(w), 1, lr, batch, seed, dtype, require_stability)


def check_softmax_loss(fn: Callable, *, seed: int = 0, require_stability: bool = False) -> CheckResult:
    """Check ``softmax_loss(Z, y) -> mean loss`` on ordinary logits, uint8 labels and logits near 1000.

    An infinite or NaN loss on logits near 1000 is a warning unless ``require_stability``
    (DLSys hw0 lets the log-sum-exp be computed directly).
    """
    fn = callable_or_raise(fn, "softmax_loss")
    target = getattr(fn, "__name__", "softmax_loss")
    results = []
    for case in problems.cases(lambda w: Architecture.build(w), depth=1, seed=seed):
        p = case.problem
        h = mlp.forward(p.arch, p.params, p.X).Z[-1]
        expected = np.array(mlp.loss(p.arch, p.params, p.X, p.y, "mean"))
        c = adapters.call(fn, [h, p.y], ["Z", "y"])
        ctx = dict(witnesses=(YOURS, "reference"), equation=equations.LOSS, problem=case.describe(), seed=case.seed)
        value = None if c.error else adapters.as_float_array(c.output)
        if c.error or isinstance(value, str) or np.shape(value) not in ((), (1,)):
            note = (f"your {target} raised {c.error}" if c.error else
                    f"{target} must return the mean loss as one number; it returned {value if isinstance(value, str) else np.shape(value)}")
            results.append(failed("loss", (), note, **ctx))
        else:
            record = compare(np.reshape(value, ()), expected, tensor="loss", **ctx)
            if record.failed:
                ratio = float(np.reshape(value, ())) / float(expected)
                if not np.isfinite(ratio):
                    found = diagnose.known("softmax_overflow", f"your loss is {float(np.reshape(value, ()))} on logits near {problems.LARGE_LOGITS:g}")
                elif np.isclose(ratio, len(h), rtol=1e-6):
                    found = diagnose.known("sum_instead_of_mean", f"your loss is {ratio:.6g} = m times the mean")
                else:
                    found = diagnose.Diagnosis(None, f"your loss is {ratio:.6g} times the expected one")
                record = diagnose.with_diagnosis(record, found)
            results += unstable([record], f"your loss is {NONFINITE} on logits near {problems.LARGE_LOGITS:g}") \
                if case.stability else [record]
        results += mutations(c, case)
    return settle(target, "loss function", results, seed, require_stability=require_stability)
