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
    draws = {name: [rng.choice([-1.0, 1.0], size=x.shape) * rng.uniform(0.5, 1.5, size=x.shape)
                    for _ in range(directions)] for name, x in named.items()}
    u = unit_roundoff(list(raw.values()))
    probe = _slopes_beside(f, named, {n: w[0] for n, w in draws.items()}, u, rng, f0) if method == "auto" else None
    chosen = method if method != "auto" else ("richardson" if probe is False else "complex")
    judged = [name for name, x in named.items() if claimed[name].shape == x.shape]
    estimates = {name: [_derivative(_of_one(f, named, name), named[name], w, chosen, f0) for w in draws[name]]
                 for name in judged}
    kink = _kink(probe, estimates, claimed, draws, u) if probe not in (None, False) else None
    records: list[Comparison] = []
    for name, x in named.items():
        g = claimed[name]
        if name not in judged:
            records += [failed(f"d{name}", g.shape, f"the gradient of {name} must have its shape {x.shape}; "
                               f"got {g.shape}", **ctx)]
            continue
        # Each entry of a correct g is off by its rounding, bounded as ENTRY_ULPS·u of max(|gⱼ|, floor·max|g|).
        u_g = unit_roundoff([raw[name]])
        floor = 1e-1 if u_g > np.finfo(np.float64).eps else 1e-5
        bound = ENTRY_ULPS * u_g * np.maximum(np.abs(g), floor * np.max(np.abs(g), initial=0.0))
        labelled = []
        for k, (w, estimate) in enumerate(zip(draws[name], estimates[name])):
            if kink:
                estimate = finite_diff.Directional(np.nan, 0.0, False, chosen, 0, kink)
            products = (g * w).ravel()
            # Each product rounds by ε/2 of itself and fsum adds them exactly: |error| ≤ ε·Σ|gw|.
            rounding = float(np.finfo(np.float64).eps) * float(np.sum(np.abs(products)))
            allowance = NOISE_FACTOR * (estimate.error + rounding) + SPREAD * float(np.linalg.norm(bound))
            labelled.append(compare(math.fsum(products), estimate.value if estimate.checkable else np.nan,
                                    tensor=f"d{name}·w{k + 1}", tolerance=ALONG, uncertainty=np.asarray(allowance),
                                    not_checkable_reason=estimate.reason, **ctx))
        if locate and any(r.failed for r in labelled):
            where = _located(f"d{name}", _of_one(f, named, name), x, g, bound, seed)
            labelled = [replace(r, note=where) if r.failed else r for r in labelled]
        records += labelled
    return CheckResult(getattr(loss, "__name__", "loss"), f"claimed gradient of a scalar loss, {calls} evaluations "
                       f"of it, {chosen} differences along {directions} random directions", tuple(records), seed,
                       advice="check at inputs away from the kinks of your loss (where it is not differentiable)")


# A relative move of every input entry by this many units of g's roundoff reaches every kink that the
# rounding of g's own arithmetic could put on either side (pre-activations round by a few u, relative).
KINK_REACH = 64
KINK_REASON = ("a kink of your loss lies within the rounding of your gradient's arithmetic at these inputs (the "
               "directional derivative differs on either side of them), where any one-sided slope is right: no "
               "direction can be judged here")


def _slopes_beside(f: Callable[..., Any], named: Mapping[str, np.ndarray], w: Mapping[str, np.ndarray], u: float,
                   rng: np.random.Generator, f0: float) -> list[finite_diff.Directional] | bool:
    """The complex-step slope along the joint direction w at the inputs moved by ±KINK_REACH·u relative, entry
    by entry with random weights ±U(½, 3⁄2); False when the loss refuses complex input.

    Continuous weights, so that equal entries (a unit built to sit on its kink) do not move alike and stay on it.
    """
    weights = {n: rng.choice([-1.0, 1.0], size=x.shape) * rng.uniform(0.5, 1.5, size=x.shape) for n, x in named.items()}
    slopes = []
    for side in (1.0, -1.0):
        moved = {n: x * (1 + side * KINK_REACH * u * weights[n]) for n, x in named.items()}

        def joint(theta: np.ndarray, moved=moved) -> Any:
            return f(*_split(theta, moved))

        try:
            slopes.append(finite_diff.directional(joint, _join(moved), _join(w), method="complex", f0=f0))
        except InvalidArgument:  # the loss drops or refuses the imaginary part
            return False
    return slopes


def _kink(beside: list[finite_diff.Directional], estimates: Mapping[str, list[finite_diff.Directional]],
          claimed: Mapping[str, np.ndarray], draws: Mapping[str, list[np.ndarray]], u: float) -> str | None:
    """Why no direction can be judged, or None: the joint slope along w differs between the two sides of the
    inputs' rounding and at the inputs themselves (the sum of each tensor's first direction).

    A smooth loss gives one slope at all three points to within its rounding; a kink in reach of the move
    (exactly on one, or within the rounding of float32 arithmetic) does not, since every derivative the
    kinked unit feeds changes there. Three points, so that several units on kinks rarely cancel out.
    """
    bad = next((e.reason for e in [*beside, *(d for ds in estimates.values() for d in ds)] if not e.checkable), None)
    if bad:
        return bad
    here = finite_diff.Directional(sum(ds[0].value for ds in estimates.values()),
                                   sum(ds[0].error for ds in estimates.values()), True, "complex", 0)
    points = [*beside, here]
    # What the slopes may differ by without a kink: the estimates' errors and g's rounding along w.
    spread = SPREAD * u * ENTRY_ULPS * math.sqrt(sum(float(np.sum(np.square(claimed[n] * draws[n][0])))
                                                     for n in estimates))
    if max(abs(a.value - b.value) for a in points for b in points) > NOISE_FACTOR * sum(p.error for p in points) + spread:
        return KINK_REASON
    return None


def _join(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in arrays.values()])


def _split(theta: np.ndarray, like: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    cuts = np.cumsum([a.size for a in like.values()])[:-1]
    return [part.reshape(a.shape) for part, a in zip(np.split(theta, cuts), like.values())]


def _of_one(f: Callable[..., Any], named: Mapping[str, np.ndarray], name: str) -> Callable[[np.ndarray], Any]:
    """The loss as a function of input ``name`` alone, the others held at their values."""
    def scalar(value: np.ndarray) -> Any:
        return f(*(value if n == name else x.copy() for n, x in named.items()))
    return scalar


def _derivative(phi: Callable[[np.ndarray], Any], x: np.ndarray, w: np.ndarray, method: str,
                f0: float) -> finite_diff.Directional:
    """∇φ·w by ``method``; Richardson counts its truncation, since no region tells it where kinks are."""
    return finite_diff.directional(phi, x, w, method=method, f0=f0, truncation=method == "richardson")


def _located(label: str, phi: Callable[[np.ndarray], Any], x: np.ndarray, g: np.ndarray, bound: np.ndarray,
             seed: int) -> str:
    try:
        with np.errstate(all="ignore"):
            found = localize(phi, x, g, seed=seed, entry_error=bound, noise_factor=NOISE_FACTOR)
    except InvalidArgument as exc:
        return f"locating the wrong entries failed: {exc}"
    return where(label, found)
