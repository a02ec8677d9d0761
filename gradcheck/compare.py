"""Compare two witnesses of one gradient and keep the verdict in one frozen record.

An entry j of ``actual`` a matches ``expected`` b when

    |a_j − b_j| ≤ rtol · max(|b_j|, floor · scale) + uncertainty_j

where ``scale`` = max |b| over the tensor (1 if b is all zero). The floor keeps
entries that are zero up to rounding from producing huge relative errors: below
``floor·scale`` an entry is judged against the tensor's scale instead of its own.
``uncertainty`` is a witness's own error estimate (finite differences carry one).
The relative error reported for each entry is |a_j − b_j| / max(|b_j|, floor·scale).
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from gradcheck.equations import Equation
from gradcheck.error_map import ErrorMap
from gradcheck.error_map import of as error_map_of
from reference_mlp.validation import InvalidArgument


@dataclass(frozen=True)
class Tolerance:
    """Relative tolerance, the floor below which entries count as zero, and why."""

    rtol: float
    floor: float
    noise: str = ""


# Keyed by the less precise dtype of the two witnesses. The noise floor is what
# two correct implementations differ by after rounding: a handful of ulps per
# operation, accumulated over the sums inside matrix products.
# A gradient returned in a narrower type than float32 is judged as float32: the
# type a submission returns must not buy it a looser tolerance. Wider types
# (long double) are judged as float64.
TOLERANCES: dict[np.dtype, Tolerance] = {
    np.dtype(np.float64): Tolerance(1e-8, 1e-5, "unit roundoff 1.1e-16; correct float64 gradients agree to ~1e-13"),
    # Correct float32 backprop leaves absolute errors up to ~2e-6·max|∇| in any entry (S − I_y
    # cancels in float32 and the error reaches every entry through Eq. 15; bench/peers.py's
    # correct cases peak at 1.9e-6), so entries below 10% of the largest are judged at 1e-5·max|∇|.
    np.dtype(np.float32): Tolerance(1e-4, 1e-1, "unit roundoff 6.0e-8; correct float32 gradients agree to ~1e-6 of their largest entry"),
}


_OVERRIDE: contextvars.ContextVar[dict[str, float]] = contextvars.ContextVar("gradcheck_tolerance", default={})


@contextlib.contextmanager
def tolerances(*, rtol: float | None = None, floor: float | None = None) -> Iterator[None]:
    """Within the block, judge every comparison with this ``rtol`` and/or ``floor`` instead of the dtype's."""
    for name, value in (("rtol", rtol), ("floor", floor)):
        if value is not None and not (isinstance(value, (int, float)) and 0 < value < 1):
            raise InvalidArgument(f"{name} must be a number between 0 and 1; got {value!r}.")
    token = _OVERRIDE.set({k: float(v) for k, v in (("rtol", rtol), ("floor", floor)) if v is not None})
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def user_rtol() -> float | None:
    """The rtol set by an enclosing :func:`tolerances` block, or None."""
    return _OVERRIDE.get().get("rtol")


def tolerance_for(*dtypes: Any) -> Tolerance:
    """The tolerance of the least precise of ``dtypes`` (integers and complex count as float64).

    Inside :func:`tolerances` the overridden values replace the table's.
    """
    override = _OVERRIDE.get()
    chosen = TOLERANCES[np.dtype(np.float64)]
    for dtype in dtypes:
        dtype = np.dtype(dtype)
        narrow = dtype.kind == "f" and dtype.itemsize <= 4
        tol = TOLERANCES[np.dtype(np.float32 if narrow else np.float64)]
        if tol.rtol > chosen.rtol:
            chosen = tol
    if override:
        chosen = Tolerance(override.get("rtol", chosen.rtol), override.get("floor", chosen.floor), USER)
    return chosen


class Verdict(str, enum.Enum):
    """The outcome of one comparison, or of a check made of many."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"  # too little could be judged to say either


# A record that judged no entry, or fewer than this fraction of its entries, claims nothing:
# it is INCONCLUSIVE, never a pass. Half is where a passing record would say less than it leaves out.
JUDGED_AT_LEAST = 0.5
NONFINITE = "NaN or infinite"
USER = "set by the user"
STABILITY = "numerical stability"
BEYOND = "beyond the handout"  # a mistake only in a case the course's own tests never make: always a warning


@dataclass(frozen=True)
class Entry:
    """One entry of a compared tensor with both witnesses' values."""

    index: tuple[int, ...]
    actual: float
    expected: float
    abs_err: float
    rel_err: float


@dataclass(frozen=True)
class Comparison:
    """Everything known about one tensor compared between two witnesses.

    This is the single record that every output (assertion message, table,
    report) is rendered from.
    """

    tensor: str
    equation: Equation | None
    witnesses: tuple[str, str]  # (actual, expected)
    expected_shape: tuple[int, ...]
    actual_shape: tuple[int, ...]
    dtype: str
    checked: int
    mismatches: int
    not_checkable: int
    max_abs_err: float
    max_rel_err: float
    worst: tuple[Entry, ...]  # the worst mismatches, or if all match the entry closest to failing
    tolerance: Tolerance
    scale: float
    not_checkable_reason: str | None = None
    problem: str | None = None
    seed: int | None = None
    note: str | None = None
    diagnosis: str | None = None
    bug: str | None = None  # the catalog id of the diagnosed mistake
    allowance: float = 0.0  # the largest error estimate of a witness added to an entry's allowance
    finding: str | None = None  # STABILITY or BEYOND: judged apart from the gradients (see checks.result.settle)
    bounded: int = 0  # entries judged against the interval a kink leaves open instead of one value
    nonfinite_entries: int = 0  # entries of the actual tensor that are NaN or infinite
    error_map: ErrorMap | None = None  # where the entries disagree (kept when some entry failed or was not judged)

    @property
    def nonfinite(self) -> bool:
        """True when the actual tensor holds NaN or infinite entries."""
        return bool(self.note) and self.note.endswith(NONFINITE)

    @property
    def verdict(self) -> Verdict:
        """FAIL when an entry disagrees; INCONCLUSIVE when fewer than half the entries (or none) could be judged."""
        if self.mismatches or self.note:
            return Verdict.FAIL
        if self.checked == 0 or self.checked < JUDGED_AT_LEAST * (self.checked + self.not_checkable):
            return Verdict.INCONCLUSIVE
        return Verdict.PASS

    @property
    def passed(self) -> bool:
        """True only when the verdict is PASS: enough was judged, and all of it agrees."""
        return self.verdict is Verdict.PASS

    @property
    def failed(self) -> bool:
        """True when some entry disagrees (or the tensor could not be compared at all)."""
        return self.verdict is Verdict.FAIL

    @property
    def size(self) -> int:
        """Entries in the expected tensor."""
        return int(np.prod(self.expected_shape, dtype=np.int64))


def failed(
    tensor: str,
    expected_shape: tuple[int, ...],
    note: str,
    *,
    witnesses: tuple[str, str] = ("actual", "expected"),
    equation: Equation | None = None,
    problem: str | None = None,
    seed: int | None = None,
    diagnosis: str | None = None,
    bug: str | None = None,
) -> Comparison:
    """The record of a tensor that could not be compared at all (the code raised, returned None, …)."""
    return Comparison(
        tensor=tensor, equation=equation, witnesses=tuple(witnesses), expected_shape=tuple(expected_shape),
        actual_shape=(), dtype="", checked=0, mismatches=0, not_checkable=0, max_abs_err=np.inf,
        max_rel_err=np.inf, worst=(), tolerance=TOLERANCES[np.dtype(np.float64)], scale=np.nan,
        problem=problem, seed=seed, note=note, diagnosis=diagnosis, bug=bug,
    )


def _shape_note(actual_shape: tuple[int, ...], expected_shape: tuple[int, ...]) -> str:
    note = f"shape mismatch: expected {expected_shape}, got {actual_shape}"
    if actual_shape == expected_shape[::-1]:
        note += " (it looks transposed)"
    elif np.prod(actual_shape, dtype=np.int64) == np.prod(expected_shape, dtype=np.int64):
        note += " (same number of entries: a reshape or a transpose went wrong)"
    return note


def _as_values(name: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as exc:
        raise InvalidArgument(f"{name} must be an array of numbers; numpy could not convert it ({exc}).") from None
    if array.dtype.kind not in "biufc":
        raise InvalidArgument(f"{name} must hold numbers; got dtype {array.dtype}.")
    return array


def compare(
    actual: Any,
    expected: Any,
    *,
    tensor: str,
    witnesses: tuple[str, str] = ("actual", "expected"),
    equation: Equation | None = None,
    tolerance: Tolerance | None = None,
    uncertainty: np.ndarray | None = None,
    checkable: np.ndarray | None = None,
    not_checkable_reason: str | None = None,
    problem: str | None = None,
    seed: int | None = None,
    worst: int = 5,
) -> Comparison:
    """Compare ``actual`` with ``expected`` entry by entry and return the record.

    ``checkable`` masks the entries a witness could estimate (finite
    differences across a kink cannot); ``uncertainty`` widens each entry's
    allowance by that witness's own error estimate. Neither array is modified.
    """
    a, b = _as_values(f"{witnesses[0]} {tensor}", actual), _as_values(f"{witnesses[1]} {tensor}", expected)
    tol = tolerance or tolerance_for(a.dtype, b.dtype)
    mask = None if checkable is None else np.asarray(checkable, dtype=bool)
    if mask is not None and mask.shape != np.shape(b):
        raise InvalidArgument(f"checkable must have the expected shape {b.shape}; got {mask.shape}.")
    if uncertainty is not None and np.shape(uncertainty) not in ((), b.shape):
        raise InvalidArgument(f"uncertainty must be a number or have the expected shape {b.shape}; got {np.shape(uncertainty)}.")
    b64 = np.asarray(np.real(b), dtype=np.float64)
    # A witness that could not estimate an entry leaves it NaN. One pass tells whether any entry
    # is NaN or infinite: the sum then is not finite (nor is it when it overflows; then look closer).
    everywhere = mask is None and (np.isfinite(np.sum(b64)) or bool(np.isfinite(b64).all()))
    mask = True if everywhere else (np.ones(b.shape, dtype=bool) if mask is None else mask) & np.isfinite(b64)
    checked = b64.size if everywhere else int(np.count_nonzero(mask))
    common = dict(
        tensor=tensor, equation=equation, witnesses=tuple(witnesses), expected_shape=tuple(b.shape),
        actual_shape=tuple(a.shape), dtype=str(a.dtype if a.dtype.kind == "f" else b.dtype), tolerance=tol,
        not_checkable=b64.size - checked, not_checkable_reason=not_checkable_reason, problem=problem, seed=seed,
    )
    if a.shape != b.shape:
        return Comparison(**common, checked=0, mismatches=0, max_abs_err=np.inf, max_rel_err=np.inf, worst=(),
                          scale=np.nan, note=_shape_note(a.shape, b.shape))
    a64 = np.asarray(np.real(a), dtype=np.float64)
    if uncertainty is None and mask is True and b64.size >= CHUNK:
        passing = _passing(a64.reshape(-1), b64.reshape(-1), tol)
        if passing is not None:
            k, rel, denom_k, max_abs_err, scale = passing
            entry = Entry(tuple(int(i) for i in np.unravel_index(k, b.shape)), float(a64.flat[k]), float(b64.flat[k]),
                          float(rel * denom_k), float(rel))
            return Comparison(**common, checked=checked, mismatches=0, max_abs_err=max_abs_err, max_rel_err=float(rel),
                              worst=(entry,), scale=scale)
    magnitude = np.abs(b64.reshape(-1)).reshape(b.shape)  # its own array, even for 0-d input
    scale = _max(magnitude, mask) or 1.0
    denom = np.maximum(magnitude, tol.floor * scale, out=magnitude)  # > 0 everywhere
    with np.errstate(invalid="ignore", over="ignore"):
        rel_err = np.subtract(a64.reshape(-1), b64.reshape(-1)).reshape(b.shape)
        np.abs(rel_err, out=rel_err)  # |a − b| for now
        nonfinite = None if np.isfinite(np.sum(a64)) else ~np.isfinite(a64) & mask
        if nonfinite is not None:
            rel_err[nonfinite] = np.inf
        max_abs_err = _max(rel_err, mask)
        np.divide(rel_err, denom, out=rel_err)  # now |a − b| / max(|b|, floor·scale)
    extra, closest, picture = 0.0, None, None
    if uncertainty is None and mask is True and nonfinite is None:
        # Without an uncertainty, |a − b| ≤ rtol·denom is rel_err ≤ rtol: one argmax settles a passing tensor.
        closest = int(np.argmax(rel_err))
        if not rel_err.flat[closest] <= tol.rtol:
            closest = None
    if closest is not None:
        mismatches, order = 0, [closest]
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            abs_err = rel_err * denom
            allowed = tol.rtol * denom
            if uncertainty is not None:
                spread = np.asarray(uncertainty, dtype=np.float64)
                allowed += spread
                extra = float(np.max(spread, where=mask, initial=0.0) if spread.shape else spread)
            bad = ~(abs_err <= allowed)
            if nonfinite is not None:
                bad |= nonfinite
            if mask is not True:
                bad &= mask
        mismatches = int(np.count_nonzero(bad))
        order = _worst(rel_err, bad, worst) if mismatches else _closest(rel_err, mask, checked)
        if b.ndim and b.size > 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = abs_err / allowed  # allowed > 0: rtol > 0 and denom > 0
            if mask is not True:
                ratio[~mask] = np.nan
            picture = error_map_of(ratio, b64, a64)
    entries = tuple(
        Entry(tuple(int(i) for i in np.unravel_index(k, b.shape)), float(a64.flat[k]), float(b64.flat[k]),
              float(rel_err.flat[k] * denom.flat[k]), float(rel_err.flat[k]))
        for k in order
    )
    n_nonfinite = 0 if nonfinite is None else int(np.count_nonzero(nonfinite))
    return Comparison(
        **common,
        checked=checked,
        mismatches=mismatches,
        max_abs_err=max_abs_err,
        max_rel_err=float(entries[0].rel_err) if entries and not mismatches else _max(rel_err, mask),
        worst=entries,
        scale=scale,
        allowance=extra,
        note=f"{n_nonfinite} entr{'y is' if n_nonfinite == 1 else 'ies are'} {NONFINITE}" if n_nonfinite else None,
        nonfinite_entries=n_nonfinite,
        error_map=picture,
    )


# Large tensors are first compared in chunks of this many entries through two small buffers that stay in
# cache: a passing tensor (the common case) then costs no array as large as itself. Anything else, a
# mismatch or an entry that is not finite, is compared again in full below.
CHUNK = 8192


def _passing(a: np.ndarray, b: np.ndarray, tol: Tolerance) -> tuple[int, float, float, float, float] | None:
    """For flat, finite-looking ``a`` and ``b`` that match everywhere: the entry closest to failing (its flat
    index, relative error and denominator), the largest absolute error and the scale; else None.

    The same arithmetic as the full comparison, entry by entry: |a − b| / max(|b|, floor·scale).
    """
    scale = 0.0
    for start in range(0, b.size, CHUNK):
        scale = max(scale, float(np.max(np.abs(b[start:start + CHUNK]))))
    if not np.isfinite(scale):
        return None
    scale = scale or 1.0
    floor = tol.floor * scale
    diff, denom = np.empty(min(CHUNK, b.size)), np.empty(min(CHUNK, b.size))
    best, at, at_denom, max_abs_err = -1.0, 0, 1.0, 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        for start in range(0, b.size, CHUNK):
            n = min(CHUNK, b.size - start)
            d, m = diff[:n], denom[:n]
            np.subtract(a[start:start + n], b[start:start + n], out=d)
            np.abs(d, out=d)
            max_abs_err = max(max_abs_err, float(np.max(d)))
            np.abs(b[start:start + n], out=m)
            np.maximum(m, floor, out=m)
            np.divide(d, m, out=d)
            k = int(np.argmax(d))
            if not d[k] <= tol.rtol:  # a mismatch, or NaN: the full comparison says which
                return None
            if d[k] > best:
                best, at, at_denom = float(d[k]), start + k, float(m[k])
    if not np.isfinite(max_abs_err):
        return None
    return at, best, at_denom, max_abs_err, scale


def _max(x: np.ndarray, mask: np.ndarray | bool) -> float:
    """The largest entry of x where mask holds (0 if none)."""
    if mask is True:
        return float(np.max(x, initial=0.0))
    return float(np.max(x, where=mask, initial=0.0))


def _worst(rel_err: np.ndarray, among: np.ndarray, n: int) -> np.ndarray:
    """Flat indices of the ``n`` largest relative errors among ``among``, largest first, ties by index."""
    ranked = np.where(among, rel_err, -np.inf).ravel()
    n = min(n, int(np.count_nonzero(among)))
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    cut = np.partition(ranked, ranked.size - n)[ranked.size - n]  # the n-th largest value
    candidates = np.flatnonzero(ranked >= cut)  # every entry tied with it too, in index order
    return candidates[np.argsort(-ranked[candidates], kind="stable")[:n]]


def _closest(rel_err: np.ndarray, among: np.ndarray | bool, checked: int) -> np.ndarray:
    """When every entry matches: the one closest to failing (largest relative error), if any was checked."""
    if not checked:
        return np.zeros(0, dtype=np.intp)
    return np.array([np.argmax(rel_err if among is True else np.where(among, rel_err, -np.inf))])
