"""The precision user code really computes in, measured instead of read from what it returns.

Students routinely compute in float32 inside functions that take and return
float64 (``X.astype(np.float32)``, the MNIST habit), and sometimes compute in
float64 and cast the result to float32. Judging by the returned dtype fails the
first and lets the second hide a bug ~1e-5 in size. So the precision is probed:

The inputs a check feeds are float32-representable (``problems.draw`` rounds
them), so code that casts them to float32 loses nothing. Multiplying one input
by 1 + 2⁻²⁶ moves it by less than float32 can resolve (half an ulp of float32 is
at least 2⁻²⁵ of the value) yet by far more than float64's 2⁻⁵³. Float64
arithmetic then moves the outputs; code that casts that input to float32 gets
exactly the same float32 numbers and returns the same outputs. Each float input
is probed on its own, so code that casts only some of them is seen too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from gradcheck.compare import TOLERANCES, USER, Tolerance, tolerance_for
from gradcheck.witnesses import Problem
from reference_mlp.mlp import Params

NUDGE = 2.0**-26  # below float32's half-ulp (≥ 2⁻²⁵ relative), far above float64's (2⁻⁵³)
SHOVE = 2.0**-10  # far above float32's resolution: an input whose shove moves nothing tells nothing
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
# Float64 arithmetic rounded once to float32 at the end: each entry is within half an ulp of
# float32 (2⁻²⁴ ≈ 6e-8 relative) of the float64 value; 16 half-ulps leave room for a few roundings.
ROUNDED_TO_FLOAT32 = Tolerance(16 * 2.0**-24, 1e-5, "float64 arithmetic rounded to float32 at the end: "
                                                    "half an ulp of float32 (6e-8) per entry")


@dataclass(frozen=True)
class Precision:
    """What a function computes in and returns, and the words that say how it was found."""

    computes_in: np.dtype
    returns: np.dtype
    evidence: str

    @property
    def tolerance(self) -> Tolerance:
        """The tolerance the computation earns: float32's for float32 arithmetic, tighter for a final cast only."""
        if self.computes_in == F32:
            return tolerance_for(F32)
        if self.returns == F32:
            chosen = tolerance_for(F64)  # an override set by the user replaces both
            return ROUNDED_TO_FLOAT32 if chosen == TOLERANCES[F64] else chosen
        return tolerance_for(F64)

    def tolerance_at(self, logits: float) -> Tolerance:
        """The tolerance on a problem whose logits reach ``logits`` in magnitude.

        Each logit h carries about u·|h| of rounding error (u the unit roundoff
        of the arithmetic), and softmax passes an absolute error δ in h on as a
        relative error ≈ δ in S, hence in S − I_y and every gradient after it
        (Eqs. 10–15 are linear in it): 4·u·max|h| bounds that. Negligible in
        float64; in float32, logits near 1000 cost ~2e-4 of relative accuracy.
        """
        t = self.tolerance
        widened = 4 * float(np.finfo(self.computes_in).eps) / 2 * float(logits)
        if widened <= t.rtol or t.noise == USER:  # a tolerance the user set is theirs
            return t
        return Tolerance(widened, t.floor, f"{t.noise}; logits up to {logits:.3g} round by u·|h|")

    @property
    def notable(self) -> bool:
        """True unless the code computes in and returns float64: then the report says what it found."""
        return self.computes_in != F64 or self.returns != F64

    def describe(self, target: str) -> str:
        """``your nn_epoch computes in float32 (…): judged with the float32 tolerance``."""
        return f"your {target} {self.words()}"

    def words(self) -> str:
        """``computes in float32 (…): judged with the float32 tolerance (rtol 0.0001)``."""
        if self.computes_in == F32:
            judged = "judged with the float32 tolerance"
        elif self.returns == F32:
            judged = "judged as float64 arithmetic rounded once to float32"
        else:
            judged = "judged with the float64 tolerance"
        return f"{self.evidence}: {judged} (rtol {self.tolerance.rtol:g})"


def of_inputs(dtype: Any) -> Precision:
    """The precision of code fed inputs of ``dtype`` that nothing was probed for."""
    dtype = np.dtype(dtype)
    if dtype == F32:
        return Precision(F32, F32, "is fed float32 inputs, so it cannot compute better than float32")
    return Precision(F64, F64, "computes in float64")


def _nudged(problem: Problem, by: float) -> list[tuple[str, Problem]]:
    """The problem with each float input in turn multiplied by 1 + ``by``: X, every Wᵢ, every bᵢ."""
    out = [("X", replace(problem, X=problem.X * (1 + by)))]
    W, b = problem.params.W, problem.params.b
    for i in range(len(W)):
        out.append((f"W{i + 1}", replace(problem, params=Params(W[:i] + (W[i] * (1 + by),) + W[i + 1:], b))))
        if b[i] is not None:
            out.append((f"b{i + 1}", replace(problem, params=Params(W, b[:i] + (b[i] * (1 + by),) + b[i + 1:]))))
    return out


def _returned(outputs: Sequence[np.ndarray]) -> np.dtype:
    """float32 when every output is float32 or holds only float32-representable values."""
    for out in outputs:
        if out.dtype == F32:
            continue
        with np.errstate(all="ignore"):
            if not np.array_equal(out.astype(F32).astype(out.dtype), out, equal_nan=True):
                return F64
    return F32 if outputs else F64


def probe(
    outputs: Callable[[Problem], Sequence[np.ndarray] | None],
    problem: Problem,
    *,
    shown: Callable[[str], str] = lambda name: name,
    noise: Callable[[Problem], Sequence[Any]] | None = None,
) -> Precision:
    """Measure the precision of user code from ``outputs(problem)``: the arrays it produced, or None if it failed.

    ``noise(problem)`` bounds, per output, how much an output may move for
    reasons other than arithmetic (an in-place update of a nudged weight rounds
    in float64); ``shown`` names an input as the user knows it (W1 → theta).
    Inputs fed as float32 need no probe.
    """
    if problem.X.dtype == F32:
        return of_inputs(F32)
    return _measure(lambda: outputs(problem), [
        (shown(name), lambda by, i=i: outputs(_nudged(problem, by)[i][1]),
         (lambda by, i=i: noise(_nudged(problem, by)[i][1])) if noise else None)
        for i, (name, _) in enumerate(_nudged(problem, NUDGE))])


def probe_arrays(outputs: Callable[..., Sequence[np.ndarray] | None], inputs: Sequence[Any],
                 names: Sequence[str]) -> Precision:
    """Measure the precision of ``outputs(*inputs)`` by nudging each float input in turn (others stay as given)."""
    if any(isinstance(x, np.ndarray) and x.dtype == F32 for x in inputs):
        return of_inputs(F32)
    def moved(i: int, by: float) -> Sequence[np.ndarray] | None:
        args = list(inputs)
        args[i] = inputs[i] * (1 + by)
        return outputs(*args)

    variants = [(name, lambda by, i=i: moved(i, by), None) for i, (name, x) in enumerate(zip(names, inputs))
                if isinstance(x, np.ndarray) and x.dtype.kind == "f" and np.any(x)]
    return _measure(lambda: outputs(*inputs), variants)


def _still(base: Sequence[np.ndarray], moved: Sequence[np.ndarray] | None, allowed: Sequence[Any]) -> bool | None:
    """Whether every output stayed within its allowed noise (None when the moved call failed)."""
    if moved is None or len(moved) != len(base) or any(o.shape != m.shape for o, m in zip(base, moved)):
        return None
    with np.errstate(all="ignore"):
        return all(bool(np.all(np.abs(m.astype(F64) - o.astype(F64)) <= a)) for o, m, a in zip(base, moved, allowed))


def _measure(base_outputs, variants) -> Precision:
    """float32 when a nudge of some input that matters leaves every output where it was, else float64.

    An input matters when a shove far above float32's resolution moves an
    output: a backward whose result does not depend on b (affine) or only on
    the sign of x (ReLU) tells nothing by staying put.
    """
    base = base_outputs()
    if not base or any(not np.all(np.isfinite(o)) for o in base):
        return of_inputs(F64)
    rounded = _returned(base) == F32
    for name, moved_outputs, noise in variants:
        allowed = (lambda by: noise(by)) if noise is not None else (lambda by: [0.0] * len(base))
        if _still(base, moved_outputs(SHOVE), allowed(SHOVE)) is not False:
            continue  # this input does not move the outputs at all (or breaks the code): no evidence
        nudged = moved_outputs(NUDGE)
        if _still(base, nudged, allowed(NUDGE)):
            return Precision(F32, _returned(base),
                             f"computes in float32 (its results do not move when {name} moves by less "
                             f"than float32 can resolve)")
        # Outputs that are float32 values even after a float64-sized move were rounded to float32;
        # exact float64 arithmetic on float32 inputs (dout·mask) is float32-valued only until moved.
        rounded = rounded and nudged is not None and _returned(nudged) == F32
    if rounded:
        return Precision(F64, F32, "computes in float64 but returns float32 values")
    return Precision(F64, F64, "computes in float64")


def unit_roundoff(arrays: Sequence[Any]) -> float:
    """The unit roundoff of the arithmetic behind the gradients: float32's when any is float32, narrower, or
    holds only float32 values (float32 arithmetic returned as float64; exact short values such as integers
    do not count); float64's otherwise.

    Never coarser than float32's: a float16 result does not widen the band of units called ambiguous.
    """
    u32, u64 = float(np.finfo(np.float32).eps) / 2, float(np.finfo(np.float64).eps) / 2
    for a in arrays:
        try:
            a = np.asarray(a)
        except Exception:  # not an array at all: compare() says so, in its own words
            continue
        if a.dtype.kind != "f":
            continue
        if a.dtype.itemsize <= 4:
            return u32
        with np.errstate(all="ignore"):
            # A strided sample first: float64 arithmetic shows in any few entries, so only float32 values
            # (or exact small numbers) pay for the whole comparison.
            flat = a.reshape(-1)
            sample = flat[:: max(1, flat.size // 64)]
            if (a.size and np.array_equal(sample.astype(np.float32), sample) and np.array_equal(a.astype(np.float32), a)
                    and not _short(a)):
                return u32
    return u64


def _short(a: np.ndarray) -> bool:
    """Whether every entry of ``a`` (float32-representable) fits in 11 significant bits, as integers and
    halves do, and at least 8 entries say so: exact values that tell nothing of float32 arithmetic.

    A float32 result keeps its low 12 mantissa bits all zero once in 4096; in 8 entries, never in practice.
    """
    if a.size < 8:
        return False
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    return not np.any(bits & np.uint32(0xFFF))
