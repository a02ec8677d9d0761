"""Any function with a hand-written backward: self-consistency by finite differences, no oracle needed.

``check_function`` takes a forward/backward pair (a layer) and compares every
entry of the backward with differences of the forward. ``check_gradient``
takes a scalar loss and a claimed gradient, nothing else (the black box), and
judges the gradient along a few random directions in one evaluation of the
loss each (the complex step), then, when a direction disagrees, finds the
wrong entries by group testing (:mod:`gradcheck.localize`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from gradcheck import adapters, finite_diff
from gradcheck.checks.common import YOURS, mutation_records, where
from gradcheck.checks.result import CheckResult
from gradcheck.compare import Comparison, Tolerance, compare, failed
from gradcheck.localize import SPREAD, localize
from gradcheck.precision import unit_roundoff
from reference_mlp.validation import InvalidArgument, as_float_array, check_choice, check_positive_int

FD = "finite differences of your forward"
FD_OF_LOSS = "finite differences of your loss"
# A correct gradient computed in floating point carries its own rounding: each entry within ENTRY_ULPS units
# of roundoff u of its arithmetic, relative to the entry or, for entries that cancel to near zero, to the
# tensor's floor·max|g| (compare's floor). 1024 ulps cover a chain of ~1000 roundings per entry: inner products
# of a few hundred terms through a few layers, which is where correct float64 backprop lands (~1e-13).
ENTRY_ULPS = 1024
# Along one direction the residual ⟨g, w⟩ − ∇f·w is judged to the rounding it can carry, not to a relative
# tolerance of the (cancelling) projection: what g's rounding adds up to (localize.SPREAD), the finite
# difference's own error and the rounding of the sum, each counted NOISE_FACTOR times as in localize.
NOISE_FACTOR = 20.0
ALONG = Tolerance(float(np.finfo(np.float64).eps), 1.0,
                  "the rounding a correct gradient's entries can add up to along a random direction, by Hoeffding's "
                  "inequality, plus the finite difference's error")


def check_function(
    forward: Callable[..., np.ndarray],
    backward: Callable[..., object],
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    *,
    seed: int = 0,
    method: str = "richardson",
) -> CheckResult:
    """Check ``backward(dout, *inputs)`` against finite differences of ``forward(*inputs)``.

    ``backward`` must return ∂⟨dout, forward(*inputs)⟩/∂input for every input
    (a tuple in input order, a dict by input name, or one array for one
    input): the vector-Jacobian product a layer's backward pass computes. The
    upstream gradient ``dout`` is drawn from ``seed``.
    """
    if not callable(forward) or not callable(backward):
        raise InvalidArgument("forward and backward must both be functions.")
    check_choice("method", method, finite_diff.METHODS)
    named = dict(inputs) if isinstance(inputs, Mapping) else {f"x{i}": x for i, x in enumerate(inputs)}
    if not named:
        raise InvalidArgument("inputs must hold at least one array to differentiate with respect to.")
    named = {n: as_float_array(f"input {n}", x).astype(np.float64) for n, x in named.items()}
    target = getattr(backward, "__name__", "backward")
    ctx = dict(witnesses=(YOURS, FD), seed=seed, problem=", ".join(f"{n} {x.shape}" for n, x in named.items()))
    first = adapters.call(forward, list(named.values()), list(named))
    if first.error:
        raise InvalidArgument(f"forward raised on the inputs given: {first.error}")
    out = adapters.as_float_array(first.output)
    if isinstance(out, str):
        raise InvalidArgument(f"forward must return an array; its output {out}.")
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    estimates = dict(zip(named, finite_diff.vjp(forward, tuple(named.values()), dout, method=method)))
    call = adapters.call(backward, [dout, *named.values()], ["dout", *named])
    given = (adapters.as_gradients(call.output, list(named), what=target)
             if not call.error else f"your {target} raised {call.error}")
    results: list[Comparison] = []
    if isinstance(given, str):
        results += [failed(f"d{n}", x.shape, given, **ctx) for n, x in named.items()]
    else:
        for n in named:
            e = estimates[n]
            results.append(compare(given[n], e.values, tensor=f"d{n}", uncertainty=e.error, checkable=e.checkable,
                                   not_checkable_reason=e.reason, **ctx))
    results += mutation_records(first.mutated + call.mutated, ctx["problem"], seed)
    return CheckResult(target, f"forward/backward pair, {method} differences", tuple(results), seed,
                       advice="give inputs away from the kinks of your forward (where it is not differentiable)")


def check_gradient(
    loss: Callable[..., Any],
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    gradients: Mapping[str, Any] | Sequence[Any] | np.ndarray,
    *,
    directions: int = 2,
    method: str = "auto",
    seed: int = 0,
    locate: bool = True,
) -> CheckResult:
    """Check a claimed gradient of a scalar ``loss(*inputs)`` knowing nothing else: the black box.

    Each input's gradient is judged along ``directions`` seeded random
    directions w (entries ±U(½, 3⁄2)): ⟨g, w⟩ against the directional
    derivative of ``loss``, one evaluation each with the complex step when
    ``loss`` keeps complex input complex (``method="auto"``), else Richardson
    differences. The allowance is the rounding a correct g can carry
    (``ENTRY_ULPS`` of its arithmetic per entry, judged as float32 when g holds
    float32 values) added up as random signs add it, so one entry off by a
    relative 1e-6 among 100,000 fails in float64. When a direction disagrees
    and ``locate`` is set, group testing names the wrong entries on the record.
    The result's convention says how many evaluations of ``loss`` it took.
    """
    if not callable(loss):
        raise InvalidArgument(f"loss must be a function of the inputs returning a scalar; got {type(loss).__name__}.")
    check_choice("method", method, ("auto",) + finite_diff.METHODS)
    directions = check_positive_int("directions", directions)
    named = dict(inputs) if isinstance(inputs, Mapping) else {f"x{i}": x for i, x in enumerate(inputs)}
    if not named:
        raise InvalidArgument("inputs must hold at least one array to differentiate with respect to.")
    named = {n: as_float_array(f"input {n}", x).astype(np.float64) for n, x in named.items()}
    claimed = adapters.as_gradients(gradients, list(named), what="gradients")
    if isinstance(claimed, str):
        raise InvalidArgument(f"{claimed} (one per input, in the order or with the names of inputs).")
    raw = dict(zip(named, gradients.values() if isinstance(gradients, Mapping) else
                   (gradients if isinstance(gradients, (list, tuple)) else [gradients])))
    calls = 0

    def f(*args: np.ndarray) -> Any:
        nonlocal calls
        calls += 1
        return loss(*args)

    rng = np.random.default_rng(seed)
    ctx = dict(witnesses=(YOURS, FD_OF_LOSS), seed=seed, problem=", ".join(f"{n} {x.shape}" for n, x in named.items()))
    f0 = float(np.real(f(*(x.copy() for x in named.values()))))
    if not math.isfinite(f0):
        raise InvalidArgument(f"loss must be finite at the inputs given to check its gradient; it returned {f0}.")
    records: list[Comparison] = []
    chosen = method
    for name, x in named.items():
        g = claimed[name]
        if g.shape != x.shape:
            records += [failed(f"d{name}", g.shape, f"the gradient of {name} must have its shape {x.shape}; "
                               f"got {g.shape}", **ctx)]
            continue
        of_one = _of_one(f, named, name)
        # Each entry of a correct g is off by its rounding, bounded as ENTRY_ULPS·u of max(|gⱼ|, floor·max|g|).
        floor = 1e-1 if unit_roundoff([raw[name]]) > np.finfo(np.float64).eps else 1e-5
        bound = ENTRY_ULPS * unit_roundoff([raw[name]]) * np.maximum(np.abs(g), floor * np.max(np.abs(g), initial=0.0))
        labelled = []
        for k in range(directions):
            w = rng.choice([-1.0, 1.0], size=x.shape) * rng.uniform(0.5, 1.5, size=x.shape)
            estimate, chosen = _derivative(of_one, x, w, chosen, f0)
            products = (g * w).ravel()
            # Each product rounds by ε/2 of itself and fsum adds them exactly: |error| ≤ ε·Σ|gw|.
            rounding = float(np.finfo(np.float64).eps) * float(np.sum(np.abs(products)))
            allowance = NOISE_FACTOR * (estimate.error + rounding) + SPREAD * float(np.linalg.norm(bound))
            labelled.append(compare(math.fsum(products), estimate.value if estimate.checkable else np.nan,
                                    tensor=f"d{name}·w{k + 1}", tolerance=ALONG, uncertainty=np.asarray(allowance),
                                    not_checkable_reason=estimate.reason, **ctx))
        if locate and any(r.failed for r in labelled):
            where = _located(f"d{name}", of_one, x, g, bound, seed)
            labelled = [replace(r, note=where) if r.failed else r for r in labelled]
        records += labelled
    return CheckResult(getattr(loss, "__name__", "loss"), f"claimed gradient of a scalar loss, {calls} evaluations "
                       f"of it, {chosen} differences along {directions} random directions", tuple(records), seed,
                       advice="check at inputs away from the kinks of your loss (where it is not differentiable)")


def _of_one(f: Callable[..., Any], named: Mapping[str, np.ndarray], name: str) -> Callable[[np.ndarray], Any]:
    """The loss as a function of input ``name`` alone, the others held at their values."""
    def scalar(value: np.ndarray) -> Any:
        return f(*(value if n == name else x.copy() for n, x in named.items()))
    return scalar


def _derivative(phi: Callable[[np.ndarray], Any], x: np.ndarray, w: np.ndarray, method: str,
                f0: float) -> tuple[finite_diff.Directional, str]:
    """∇φ·w by ``method``; "auto" takes the complex step while φ keeps complex input complex, else Richardson."""
    if method == "auto":
        try:
            return finite_diff.directional(phi, x, w, method="complex", f0=f0), "complex"
        except InvalidArgument:  # φ drops or refuses the imaginary part
            method = "richardson"
    return finite_diff.directional(phi, x, w, method=method, f0=f0, truncation=method == "richardson"), method


def _located(label: str, phi: Callable[[np.ndarray], Any], x: np.ndarray, g: np.ndarray, bound: np.ndarray,
             seed: int) -> str:
    try:
        with np.errstate(all="ignore"):
            found = localize(phi, x, g, seed=seed, entry_error=bound, noise_factor=NOISE_FACTOR)
    except InvalidArgument as exc:
        return f"locating the wrong entries failed: {exc}"
    return where(label, found)
