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
from gradcheck.compare import Comparison, Tolerance, compare, failed, tolerance_for, user_rtol
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

    The gradients of all inputs are judged together along ``directions``
    seeded random directions w (entries ±U(½, 3⁄2)): ⟨g, w⟩ against the
    directional derivative of ``loss``, by the complex step when ``loss`` keeps
    complex input complex (``method="auto"``), else Richardson differences.
    The allowance is the rounding a correct g can carry (``ENTRY_ULPS`` of its
    arithmetic per entry, judged as float32 when g holds float32 values) added
    up as random signs add it, so one entry off by a relative 1e-6 among
    100,000 fails in float64. The complex step also takes each direction's slope
    just beside the inputs (moved by a few units of roundoff, both ways in
    float64, four random ways in float32): a kink within that reach (exactly on
    one, or within float32 rounding of one) leaves the direction INCONCLUSIVE,
    since any one-sided slope is right there. When a direction disagrees and
    ``locate`` is set, group testing names the wrong entries on the record.
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
    # The gradients by name, each in the dtype it came in: its values tell the arithmetic behind it.
    claimed = adapters.as_gradients(gradients, list(named), what="gradients")
    if isinstance(claimed, str):
        raise InvalidArgument(f"{claimed} (one per input, in the order or with the names of inputs).")
    calls = 0

    def f(*args: np.ndarray) -> Any:
        nonlocal calls
        calls += 1
        return loss(*args)

    ctx = dict(witnesses=(YOURS, FD_OF_LOSS), seed=seed, problem=", ".join(f"{n} {x.shape}" for n, x in named.items()))
    out = f(*(x.copy() for x in named.values()))
    if np.ndim(out) != 0:
        raise InvalidArgument(f"loss must return a scalar; it returned an array of shape {np.shape(out)}. "
                              "Reduce it (e.g. .sum() or .mean()) inside the loss.")
    f0 = float(np.real(out))
    if not math.isfinite(f0):
        raise InvalidArgument(f"loss must be finite at the inputs given to check its gradient; it returned {f0}.")
    records = [_unjudgeable(n, claimed[n], x.shape, ctx) for n, x in named.items()]
    records = [r for r in records if r is not None]
    judged = [n for n, x in named.items() if claimed[n].shape == x.shape and x.size and np.isfinite(claimed[n]).all()]
    if not judged:  # nothing to judge along a direction: the records say why, or the check is INCONCLUSIVE
        return CheckResult(getattr(loss, "__name__", "loss"), "claimed gradient of a scalar loss", tuple(records), seed)
    joint = _Joint(f, named, judged)
    g = _join({n: claimed[n].astype(np.float64) for n in judged})
    # The arithmetic behind each tensor, read from it; an all-zero tensor (a dead unit's gradient) tells nothing.
    u = {n: unit_roundoff([claimed[n]]) if np.any(claimed[n]) else float(np.finfo(np.float64).eps) / 2 for n in judged}
    # Each entry of a correct g is off by its rounding, bounded as ENTRY_ULPS·u of max(|gⱼ|, floor·max|g|).
    bound = _join({n: _rounding(claimed[n], u[n]) for n in judged})
    rng = np.random.default_rng(seed)
    # Each entry moves by KINK_REACH units of its tensor's roundoff, relative to the entry or, for entries at or
    # near 0 (an input on a kink itself), to 2⁻¹⁰ of its tensor's largest.
    reach = _join({n: KINK_REACH * u[n] * _magnitude(named[n]) for n in judged})
    # In float64 only units exactly on a kink are in reach: one move and its opposite put each of them on the
    # other side in one of the two. Float32 rounding puts many units in reach, whose shares can cancel in
    # one grouping: four independent moves there, each putting every unit on an independent side.
    def draw() -> np.ndarray:
        return reach * rng.choice([-1.0, 1.0], size=g.size) * rng.uniform(0.5, 1.5, size=g.size)
    if max(u.values()) > np.finfo(np.float64).eps:
        moves = [draw() for _ in range(4)]
    else:
        first = draw()
        moves = [first, -first]
    label = f"d{judged[0]}" if len(judged) == 1 else f"d({', '.join(judged)})"
    chosen = "complex" if method == "auto" else method
    labelled = []
    # All tensors share each direction, so its allowance holds every tensor's rounding: the check is as tight
    # as the least precise gradient allows (a float32 one beside float64 ones loosens it for all of them).
    for k in range(directions):
        w = rng.choice([-1.0, 1.0], size=g.size) * rng.uniform(0.5, 1.5, size=g.size)
        products = g * w
        # Each product rounds by ε/2 of itself and fsum adds them exactly: |error| ≤ ε·Σ|gw|.
        rounding = float(np.finfo(np.float64).eps) * float(np.sum(np.abs(products)))
        estimate, chosen = _derivative(joint, joint.theta, w, chosen, method == "auto", f0)
        allowance = NOISE_FACTOR * (estimate.error + rounding) + SPREAD * float(np.linalg.norm(bound))
        if chosen == "complex" and estimate.checkable:
            estimate = _unless_kinked(joint, w, estimate, moves, allowance, f0)
        labelled.append(compare(math.fsum(products), estimate.value if estimate.checkable else np.nan,
                                tensor=f"{label}·w{k + 1}", tolerance=ALONG, uncertainty=np.asarray(allowance),
                                not_checkable_reason=estimate.reason, **ctx))
    if locate and any(r.failed for r in labelled):
        found_at = _located(joint, g, bound, seed)
        labelled = [replace(r, note=found_at) if r.failed else r for r in labelled]
    return CheckResult(getattr(loss, "__name__", "loss"), f"claimed gradient of a scalar loss, {calls} evaluations "
                       f"of it, {chosen} differences along {directions} random directions", tuple(records + labelled),
                       seed, advice="check at inputs away from the kinks of your loss (where it is not differentiable)")


# A relative move of every input entry by this many units of its gradient's roundoff reaches every kink that
# the rounding of that arithmetic could put on either side (pre-activations round by a few u, relative).
KINK_REACH = 64
KINK_REASON = ("a kink of your loss lies within the rounding of your gradient's arithmetic at these inputs (the "
               "slope along this direction jumps just beside them), where any one-sided slope is right: this "
               "direction cannot be judged here")


class _Joint:
    """The loss as a function of the judged inputs laid end to end in one vector, the others held fixed."""

    def __init__(self, f: Callable[..., Any], named: Mapping[str, np.ndarray], judged: Sequence[str]):
        self.f, self.named, self.judged = f, named, list(judged)
        self.theta = _join({n: named[n] for n in judged})
        self.cuts = np.cumsum([named[n].size for n in judged])[:-1]

    def __call__(self, theta: np.ndarray) -> Any:
        parts = dict(zip(self.judged, np.split(theta, self.cuts)))
        return self.f(*(parts[n].reshape(x.shape) if n in parts else x.copy() for n, x in self.named.items()))

    def entry(self, flat: int) -> str:
        """The name of the input entry at ``flat`` of the joint vector, e.g. ``dW1[3, 4]``."""
        k = int(np.searchsorted(self.cuts, flat, side="right"))
        start = 0 if k == 0 else int(self.cuts[k - 1])
        index = np.unravel_index(flat - start, self.named[self.judged[k]].shape)
        return f"d{self.judged[k]}[{', '.join(map(str, index))}]"


def _join(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in arrays.values()])


def _rounding(g: np.ndarray, u: float) -> np.ndarray:
    """A bound on each entry's rounding error in a correct g computed in unit roundoff u: ENTRY_ULPS·u of
    max(|gⱼ|, floor·max|g|), with compare's floor for that precision; inside
    ``gradcheck.compare.tolerances(rtol=…)``, that rtol instead of ENTRY_ULPS·u."""
    tol = tolerance_for(np.float32 if u > np.finfo(np.float64).eps else np.float64)
    per_entry = user_rtol() or ENTRY_ULPS * u
    magnitude = np.abs(g.astype(np.float64))
    return per_entry * np.maximum(magnitude, tol.floor * np.max(magnitude, initial=0.0))


def _magnitude(x: np.ndarray) -> np.ndarray:
    """|xⱼ|, or 2⁻¹⁰ of the largest |x| where that is more (1 where x is all zeros)."""
    largest = float(np.max(np.abs(x), initial=0.0)) or 1.0
    return np.maximum(np.abs(x), 2.0**-10 * largest)


def _unjudgeable(name: str, g: np.ndarray, shape: tuple[int, ...], ctx: Mapping[str, Any]) -> Comparison | None:
    """The failure of a gradient no direction can judge (wrong shape, NaN or infinite entries), or None."""
    if g.shape != shape:
        return failed(f"d{name}", g.shape, f"the gradient of {name} must have its shape {shape}; got {g.shape}", **ctx)
    bad = ~np.isfinite(g)
    if bad.any():
        first = np.unravel_index(int(np.argmax(bad)), shape)
        return failed(f"d{name}", shape, f"{int(bad.sum())} of its {g.size} entries are NaN or infinite, the first "
                      f"d{name}[{', '.join(map(str, first))}] = {g[first]}", **ctx)
    return None


def _derivative(phi: _Joint, x: np.ndarray, w: np.ndarray, method: str, fallback: bool,
                f0: float) -> tuple[finite_diff.Directional, str]:
    """∇φ·w by ``method``, or by Richardson when φ refuses complex input and ``fallback`` allows it. Richardson
    counts its truncation and tells a kink within its step from φ alone (not checkable there)."""
    try:
        return finite_diff.directional(phi, x, w, method=method, f0=f0, truncation=method == "richardson",
                                       find_kinks=method == "richardson"), method
    except InvalidArgument:  # φ drops or refuses the imaginary part
        if method != "complex" or not fallback:
            raise
    return _derivative(phi, x, w, "richardson", False, f0)


def _unless_kinked(phi: _Joint, w: np.ndarray, here: finite_diff.Directional, moves: Sequence[np.ndarray],
                   allowance: float, f0: float) -> finite_diff.Directional:
    """``here``, or not checkable if the slope along w jumps between the inputs and either side of their rounding.

    The complex step at the inputs moved by each of ``moves`` (a few units of roundoff, relative, random
    signs): on a smooth loss the slope moves by O(move), far below the rounding of g that the allowance
    covers. A unit a kink puts in reach (exactly on one, or within the rounding of float32 arithmetic)
    lands on a random side in each move and shifts that slope by its share when it changes side; a valid
    one-sided choice of the code under test may differ from the slope here by such shares, so a shift over
    half the allowance leaves the direction unjudged.
    """
    beside = [finite_diff.directional(phi, phi.theta + move, w, method="complex", f0=f0) for move in moves]
    if not all(b.checkable for b in beside):
        return finite_diff.Directional(np.nan, 0.0, False, "complex", here.evaluations,
                                       next(b.reason for b in beside if not b.checkable))
    shift = max(abs(b.value - here.value) for b in beside)
    noise = NOISE_FACTOR * (max(b.error for b in beside) + here.error)
    if shift > noise + allowance / 2:
        return finite_diff.Directional(np.nan, 0.0, False, "complex", here.evaluations, KINK_REASON)
    return here


def _located(phi: _Joint, g: np.ndarray, bound: np.ndarray, seed: int) -> str:
    try:
        with np.errstate(all="ignore"):
            found = localize(phi, phi.theta, g, seed=seed, entry_error=bound, noise_factor=NOISE_FACTOR)
    except Exception as exc:  # the loss misbehaving under the extra steps: the failure stands, unlocated
        return f"locating the wrong entries failed: {adapters.describe_exception(exc)}"
    return where(lambda index: phi.entry(index[0]), found)
