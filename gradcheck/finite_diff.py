"""Finite differences: the witness that needs nothing but the forward pass.

Four estimators of ∂f/∂x for a scalar function f of one array x:

- ``central``:    (f(x + h) − f(x − h)) / 2h, error O(h²); 2 evaluations per entry.
- ``richardson``: (4·D(h/2) − D(h)) / 3 from two central differences, error O(h⁴);
                  4 evaluations per entry.
- ``complex``:    Im f(x + ih) / h, no subtraction so no cancellation: exact to
                  machine precision, for functions that accept complex input.
- ``directional``: any of the above along one direction v, estimating the
                  Jacobian-vector product ∇f·v in 2–4 evaluations instead of 2P.

Every estimator is pure (x is copied before each perturbation, so f may even
scribble on its argument) and kink-aware: given ``region``, a function that
says which smooth piece f is on at a point, an entry whose perturbation
changes the piece is *not checkable* and says so, instead of producing a
meaningless difference quotient across a ReLU's corner.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from reference_mlp.validation import InvalidArgument, as_float_array, check_choice, check_positive_float

Function = Callable[[np.ndarray], float]
Region = Callable[[np.ndarray], np.ndarray]

METHODS = ("central", "richardson", "complex")
EVALUATIONS = {"central": 2, "richardson": 4, "complex": 1}  # evaluations of f per estimate
COMPLEX_STEP = 1e-20
KINK_REASON = "a perturbation of ±h crosses a non-differentiable point (kink) of an activation"
BLACK_BOX_KINK_REASON = ("the one-sided differences of f disagree at every step size: a kink of f lies within "
                         "the step, where the derivative has no single value")
NONFINITE_REASON = "f is not finite at a perturbed point"


@dataclass(frozen=True)
class Estimate:
    """Per-entry estimates of ∂f/∂x, shaped like x.

    ``values`` is NaN where ``checkable`` is False; ``error`` is the estimated
    rounding error of each entry (truncation is O(h²) for central, O(h⁴) for
    Richardson and is covered by the comparison's tolerance).
    """

    values: np.ndarray
    error: np.ndarray
    checkable: np.ndarray
    method: str
    evaluations: int
    reason: str | None = None

    @property
    def not_checkable(self) -> int:
        """How many entries could not be estimated."""
        return int(self.checkable.size - np.count_nonzero(self.checkable))


@dataclass(frozen=True)
class Directional:
    """An estimate of the directional derivative ∇f(x)·v."""

    value: float
    error: float
    checkable: bool
    method: str
    evaluations: int
    reason: str | None = None


def step_size(x: np.ndarray, method: str, eps: float | None = None) -> np.ndarray:
    """The per-entry step h that balances truncation against rounding.

    Central differences lose ε|f|/h to rounding and gain h²|f'''| of
    truncation, minimised near h = ε^{1/3}·max(|x|, 1); Richardson's O(h⁴)
    truncation moves the optimum to ε^{1/5}·max(|x|, 1). The step is then
    rounded so that x + h − x == h exactly in floating point.
    """
    check_choice("method", method, METHODS)
    real = np.real(x)
    eps = np.finfo(real.dtype).eps if eps is None else eps
    if method == "complex":
        return np.full(real.shape, COMPLEX_STEP)
    power = 1 / 3 if method == "central" else 1 / 5
    h = eps**power * np.maximum(np.abs(real), 1.0)
    return (real + h) - real


class _Probe:
    """Evaluates f at copies of x and remembers the smooth piece at x."""

    def __init__(self, f: Function, x: np.ndarray, region: Region | None, f0: float | None = None,
                 find_kinks: bool = False):
        if not callable(f):
            raise InvalidArgument(f"f must be a function of one array returning a scalar; got {type(f).__name__}.")
        if region is not None and not callable(region):
            raise InvalidArgument(f"region must be a function of one array or None; got {type(region).__name__}.")
        self.f, self.x, self.region = f, x, region
        self.evaluations = 0
        self.curvature = 0.0
        self.find_kinks = find_kinks and region is None  # Richardson spends 2 more evaluations to find them
        self.eps = np.finfo(np.float64).eps  # until f's own precision is known
        self.truncation = False  # count Richardson's truncation in its error, from one level more
        self.quarter: tuple[float, float, str | None] | None = None  # D(h/4), when finding kinks took it
        self.f0 = self.value(x.copy(), complex_ok=False) if f0 is None else float(f0)
        if not np.isfinite(self.f0):
            raise InvalidArgument(f"f(x) must be finite to differentiate it; got {self.f0}.")
        self.piece0 = None if region is None else self._pieces(x.copy())

    def _pieces(self, point: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(self.region(point))
        except ValueError as exc:  # e.g. a ragged list that numpy refuses
            raise InvalidArgument(f"region must return an array (which smooth piece f is on); numpy refused it: {exc}.") from None

    def value(self, point: np.ndarray, complex_ok: bool) -> complex | float:
        self.evaluations += 1
        out = self.f(point)
        if np.ndim(out) != 0:
            raise InvalidArgument(
                f"f must return a scalar loss; it returned an array of shape {np.shape(out)}. "
                "Reduce it (e.g. .sum() or .mean()) inside f."
            )
        if complex_ok and not np.iscomplexobj(out):
            raise InvalidArgument(
                f"the complex-step method needs an f that keeps complex input complex; given x + ih it returned "
                f"{type(out).__name__} {out!r}, so the imaginary part was dropped. Use method='central' or 'richardson'."
            )
        kind = np.asarray(out).dtype
        if kind.kind not in "biufc":
            raise InvalidArgument(f"f must return a number (the loss); it returned {type(out).__name__} {out!r}.")
        if kind.kind == "f" and kind.itemsize < 8:
            self.eps = max(self.eps, float(np.finfo(kind).eps))  # f computes in lower precision: round accordingly
        return complex(out) if complex_ok else float(np.real(out))

    def same_piece(self, point: np.ndarray) -> bool:
        return self.piece0 is None or np.array_equal(self._pieces(point.copy()), self.piece0)

    def central(self, direction: np.ndarray, h: float) -> tuple[float, float, str | None]:
        """(f(x + h·d) − f(x − h·d)) / 2h, its rounding error, and why it failed if it did."""
        plus, minus = self.x + h * direction, self.x - h * direction
        if not (self.same_piece(plus) and self.same_piece(minus)):
            return np.nan, 0.0, KINK_REASON
        f_plus, f_minus = self.value(plus, False), self.value(minus, False)
        if not (np.isfinite(f_plus) and np.isfinite(f_minus)):
            return np.nan, 0.0, NONFINITE_REASON
        rounding = self.eps * max(abs(f_plus), abs(f_minus), abs(self.f0)) / h
        self.curvature = (f_plus - 2 * self.f0 + f_minus) / h  # D₊(h) − D₋(h): ≈ h·f'' when f is smooth
        return (f_plus - f_minus) / (2 * h), rounding, None

    def richardson(self, direction: np.ndarray, h: float) -> tuple[float, float, str | None]:
        """(4·D(h/2) − D(h)) / 3: cancels the h² term of the central difference."""
        coarse, err_coarse, why = self.central(direction, h)
        if why:
            return np.nan, 0.0, why
        s1 = self.curvature
        fine, err_fine, why = self.central(direction, h / 2)
        if why:
            return np.nan, 0.0, why
        if self.find_kinks and self._kinked(direction, h, s1, self.curvature, err_fine):
            return np.nan, 0.0, BLACK_BOX_KINK_REASON
        value, error = _richardson(coarse, fine), _richardson(-err_coarse, err_fine)
        if self.truncation:
            # R(h) = (4·D(h/2) − D(h))/3 is off by c·h⁴ + …; the next level R(h/2) by c·h⁴/16, so
            # |R(h) − R(h/2)| ≈ (15/16)·c·h⁴ estimates R(h)'s truncation (and carries both levels' rounding).
            # Negligible where f is gentle; not where it curves sharply (a normalization over a few entries)
            # or where steps are sized for float32 (ε^{1/5}: ~60× those for float64).
            quarter, err_quarter, why = self.quarter if self.quarter is not None else self.central(direction, h / 4)
            self.quarter = None
            if why:
                return np.nan, 0.0, why
            # The estimate is asymptotic: twice it covers the next term while h is not yet small.
            error += 2 * abs(value - _richardson(fine, quarter)) + err_quarter
        return value, error, None

    def _kinked(self, direction: np.ndarray, h: float, s1: float, s2: float, noise: float) -> bool:
        """Whether f has a kink within h of x, told from f alone (no ``region`` to ask).

        On a smooth piece the gap between the one-sided slopes, s(h) = D₊(h) − D₋(h) = h·f'' + O(h³),
        halves with the step; a kink at distance d < h keeps it O(|jump|) instead. With s at h, h/2
        and h/4, s(h) − 2s(h/2) and s(h/2) − 2s(h/4) cannot both vanish for any d < h, while for a
        smooth f they are O(h³), far below s itself. The rounding of each s is a few ε|f|/h.
        """
        self.quarter = self.central(direction, h / 4)  # also the next Richardson level, when truncation is estimated
        s3 = self.curvature
        uneven = max(abs(s1 - 2 * s2), abs(s2 - 2 * s3))
        return uneven > 8 * 4 * noise and uneven > 0.1 * max(abs(s1), abs(s2), abs(s3))

    def complex(self, direction: np.ndarray, h: float) -> tuple[float, float, str | None]:
        """Im f(x + ih·d) / h, exact on a smooth piece; undefined on a kink itself."""
        # The imaginary step never crosses a kink, but a point sitting on one
        # (within a few ulps) has no derivative: probe the smallest real move.
        nudge = float(_nudge(np.max(np.abs(self.x * direction))))
        if not (self.same_piece(self.x + nudge * direction) and self.same_piece(self.x - nudge * direction)):
            return np.nan, 0.0, KINK_REASON
        point = self.x.astype(np.complex128) + 1j * h * direction
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            try:
                out = self.value(point, True)
            except (TypeError, np.exceptions.ComplexWarning) as exc:
                raise InvalidArgument(
                    f"the complex-step method needs an f that accepts complex input, and this one does not ({exc}). "
                    "Use method='central' or 'richardson'."
                ) from None
        if not np.isfinite(out):
            return np.nan, 0.0, NONFINITE_REASON
        value = out.imag / h
        return value, np.finfo(np.float64).eps * abs(value), None


def _richardson(coarse, fine):
    """(4·D(h/2) − D(h)) / 3: the O(h²) terms of two central differences cancel."""
    return (4 * fine - coarse) / 3


def _nudge(x: np.ndarray) -> np.ndarray:
    """The smallest real move that tells a point on a kink from one beside it."""
    return 4 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(x))


Stacked = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def stacked(
    at: Stacked, x: np.ndarray, method: str, f0: float, *, probe: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate many scalar derivatives φ_b'(0) at once, one array of steps per evaluation.

    ``at(t)`` returns φ_b(t_b) for every b (t real, or complex for the complex
    step) and whether each evaluation left its smooth piece; ``x`` holds the
    value each step is scaled to. ``probe=False`` skips the complex step's
    check for a point sitting on a kink. Returns the estimates (NaN where not
    checkable), their rounding errors, and why each failed ("" when it did not).
    """
    check_choice("method", method, METHODS)
    x = np.asarray(x, dtype=np.float64)
    h = step_size(x, method)
    eps = np.finfo(np.float64).eps
    if method == "complex":
        crossed = at(_nudge(x))[1] | at(-_nudge(x))[1] if probe else np.zeros(x.shape, dtype=bool)
        out = at(1j * h)[0]
        values, nonfinite = np.imag(out) / h, ~np.isfinite(out)
        error = eps * np.abs(values)
    else:
        def central(step):
            (plus, c_plus), (minus, c_minus) = at(step), at(-step)
            rounding = eps * np.maximum(np.maximum(np.abs(plus), np.abs(minus)), abs(f0)) / step
            return (plus - minus) / (2 * step), rounding, c_plus | c_minus, ~(np.isfinite(plus) & np.isfinite(minus))

        values, error, crossed, nonfinite = central(h)
        if method == "richardson":
            fine, err_fine, c_fine, n_fine = central(h / 2)
            values, error = _richardson(values, fine), _richardson(-error, err_fine)
            crossed, nonfinite = crossed | c_fine, nonfinite | n_fine
    values = np.where(crossed | nonfinite, np.nan, values)
    reasons = np.where(crossed, KINK_REASON, np.where(nonfinite, NONFINITE_REASON, ""))
    return values, np.where(np.isnan(values), 0.0, error), reasons


def _narrow(probe: _Probe, precision: np.dtype | None) -> None:
    """Size steps and errors for f computing in ``precision`` when that is narrower than float64."""
    if precision is not None and np.dtype(precision).kind == "f" and np.dtype(precision).itemsize < 8:
        probe.eps = max(probe.eps, float(np.finfo(precision).eps))
        probe.truncation = True


def _prepare(x: np.ndarray) -> np.ndarray:
    return np.array(as_float_array("x", x), dtype=np.float64, copy=True)


def gradient(
    f: Function, x: np.ndarray, *, method: str = "central", region: Region | None = None, step: float | None = None,
    precision: np.dtype | None = None, truncation: bool = False,
) -> Estimate:
    """Estimate every entry of ∂f/∂x by ``method`` ("central", "richardson" or "complex").

    ``region(x)`` may return any array that changes exactly when x moves onto
    another smooth piece of f (e.g. the sign pattern of ReLU pre-activations);
    entries whose perturbation changes it are reported as not checkable.
    ``step`` overrides the per-entry step of :func:`step_size` with one h.
    Without ``region``, Richardson finds kinks from f alone (6 evaluations an
    entry instead of 4): an entry whose one-sided slopes disagree at every
    step is not checkable, never a failure. ``precision`` is the dtype f
    computes in when it returns a wider one (float32 arithmetic returned as
    float64): steps and rounding estimates are sized for it. ``truncation``
    adds Richardson's truncation to each entry's error, estimated from one
    level more (2 evaluations an entry, none when finding kinks already took them).
    """
    check_choice("method", method, METHODS)
    x0 = _prepare(x)
    probe = _Probe(f, x0, region, find_kinks=True)
    _narrow(probe, precision)
    probe.truncation = probe.truncation or truncation
    estimate = getattr(probe, method)
    steps = step_size(x0, method, probe.eps) if step is None else np.full(x0.shape, check_positive_float("step", step))
    values = np.full(x0.shape, np.nan)
    error = np.zeros(x0.shape)
    reasons = set()
    basis = np.zeros(x0.shape)
    for index in np.ndindex(x0.shape):
        basis[index] = 1.0
        values[index], error[index], why = estimate(basis, float(steps[index]))
        basis[index] = 0.0
        if why:
            reasons.add(why)
    checkable = np.isfinite(values)
    return Estimate(values, error, checkable, method, probe.evaluations, "; ".join(sorted(reasons)) or None)


def direction(v: np.ndarray, shape: tuple[int, ...], of: str) -> tuple[np.ndarray, float]:
    """``v`` as a float64 array and its norm, or raise if it does not have ``shape`` (that of ``of``) or is all zeros."""
    v = as_float_array("direction v", v).astype(np.float64)
    if v.shape != tuple(shape):
        raise InvalidArgument(f"direction v must have the shape of {of}, {tuple(shape)}; got {v.shape}.")
    norm = float(np.linalg.norm(v))
    if norm == 0:
        raise InvalidArgument("direction v is all zeros; a directional derivative needs a nonzero direction.")
    return v, norm


def directional(
    f: Function, x: np.ndarray, v: np.ndarray, *, method: str = "richardson", region: Region | None = None,
    f0: float | None = None, precision: np.dtype | None = None, truncation: bool = False, find_kinks: bool = False,
) -> Directional:
    """Estimate ∇f(x)·v in 2 (central), 4 (Richardson) or 1 (complex) evaluations, plus f(x) unless ``f0`` gives it.

    The step is taken along v/‖v‖ and the result scaled back by ‖v‖, so the
    size of v never pushes the step across a kink. ``precision`` and ``truncation`` are as for :func:`gradient`;
    ``find_kinks`` has Richardson tell a kink within its step from f alone (2 more evaluations) when no
    ``region`` says where the kinks are.
    """
    check_choice("method", method, METHODS)
    x0 = _prepare(x)
    v, norm = direction(v, x0.shape, "x")
    probe = _Probe(f, x0, region, f0, find_kinks=find_kinks)
    _narrow(probe, precision)
    probe.truncation = probe.truncation or truncation
    h = float(np.max(step_size(np.array([np.max(np.abs(x0), initial=0.0)]), method, probe.eps)))
    value, error, why = getattr(probe, method)(v / norm, h)
    return Directional(value * norm, error * norm, why is None, method, probe.evaluations, why)


def vjp(
    f: Callable[..., np.ndarray], inputs: tuple[np.ndarray, ...], cotangent: np.ndarray, *, method: str = "richardson",
    precision: np.dtype | None = None,
) -> tuple[Estimate, ...]:
    """Estimate the vector-Jacobian product ∂⟨cotangent, f(*inputs)⟩/∂input for every input.

    This is what a layer's backward pass must return for upstream gradient
    ``cotangent``; f's output must have the cotangent's shape.
    """
    inputs = tuple(_prepare(x) for x in inputs)
    cotangent = _prepare(cotangent)
    # ⟨cotangent, f⟩ rounds on the scale of Σ|cotangent·f|, not of the (cancelling) sum. Offset by that scale, a
    # constant, so that the rounding estimates (ε·|value|/h) and the kink test see the noise the sum really has.
    offset = float(np.sum(np.abs(np.asarray(f(*inputs), dtype=np.float64) * cotangent)))

    def along(i: int) -> Function:
        def scalar(x: np.ndarray) -> float:
            args = list(inputs)
            args[i] = x
            out = np.asarray(f(*args))
            if out.shape != cotangent.shape:
                raise InvalidArgument(
                    f"the forward function returned shape {out.shape}, but the upstream gradient has shape {cotangent.shape}."
                )
            if out.dtype.kind == "f" and out.dtype.itemsize < 8:  # keep f's precision visible to the step choice
                return np.sum(out * cotangent.astype(out.dtype), dtype=out.dtype) + out.dtype.type(offset)
            return np.sum(out * cotangent) + offset
        return scalar

    return tuple(gradient(along(i), x, method=method, precision=precision) for i, x in enumerate(inputs))
