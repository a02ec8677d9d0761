"""Find the wrong entries of a gradient without an oracle, in O(k log P) function evaluations.

Given a loss f, a point x and a claimed gradient g, the residual along a
direction v is r(v) = g·v − ∇f(x)·v = e·v, where e = g − ∇f(x) is the error.
The first term is free; the second is one directional finite difference
(Richardson: four evaluations of f), whatever the number of parameters.

Detection tests v = random weights wᵢ = ±U(½, 3⁄2) on every entry.
Localisation is adaptive group testing: split a set whose residual is nonzero
in halves, test one half with the same weights, and get the other half's
residual by subtraction (r is linear in v), so every level costs one
directional derivative. One wrong entry among P is found in about log₂P tests;
k entries in about k·log₂P.

A set that holds wrong entries reads as clean only if Σ wᵢeᵢ falls below the
noise threshold τ: never for one entry (|wᵢ| ≥ ½, so |r| ≥ |eᵢ|/2), and for
several the weighted sum of independent continuous weights lands within τ of
zero with probability at most about 2τ/min|eᵢ| per test. (Plain ±1 signs would
cancel equal errors half of the time.)

A correct g computed in floating point carries rounding errors of its own, up
to a bound bᵢ per entry (``entry_error``). Their weighted sum Σ wᵢeᵢ has
independent, symmetric weights |wᵢ| ≤ 3⁄2, so by Hoeffding's inequality
|Σ wᵢeᵢ| ≤ 3·√(ln(2/δ)/2)·‖b‖₂ except with probability δ: τ adds that, with
δ = 1e-12, instead of the Σ|wᵢ|bᵢ of errors that all point one way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from gradcheck import finite_diff
from reference_mlp.validation import InvalidArgument, as_float_array, check_choice, check_positive_int

# |Σ wᵢeᵢ| ≤ SPREAD·‖e‖₂ for independent symmetric weights |wᵢ| ≤ 3/2, but with probability 1e-12 (Hoeffding).
SPREAD = 3 * math.sqrt(math.log(2 / 1e-12) / 2)
MISS = ("never for a single wrong entry; for several, at most about 2·threshold/min|error| per test, "
        "because the weights are continuous and independent")


@dataclass(frozen=True)
class Localization:
    """The entries of a gradient found wrong, with the error of each, and what it cost."""

    wrong: tuple[tuple[int, ...], ...]
    errors: tuple[float, ...]  # g_j − ∂f/∂x_j for each wrong entry
    evaluations: int
    complete: bool  # False when more than max_entries were wrong: a structured error
    threshold: float
    miss: str = MISS

    @property
    def found(self) -> bool:
        """True when the gradient is wrong somewhere."""
        return bool(self.wrong) or not self.complete


def localize(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    g: np.ndarray,
    *,
    max_entries: int = 5,
    method: str = "auto",
    noise_factor: float = 20.0,
    seed: int = 0,
    entry_error: np.ndarray | None = None,
) -> Localization:
    """Find up to ``max_entries`` entries where ``g`` differs from the gradient of ``f`` at ``x``.

    An entry counts as wrong when its share of a directional residual exceeds
    ``noise_factor`` times its error estimate (the finite difference's, plus
    the rounding of the sum g·v), plus what rounding errors of g within
    ``entry_error`` (a bound per entry, shaped like g) can add up to.
    ``method="auto"`` takes the complex step when f accepts complex input
    (exact, and it never steps across a ReLU's kink) and Richardson otherwise.
    """
    x0 = as_float_array("x", x).astype(np.float64)
    g0 = as_float_array("g", g).astype(np.float64)
    if g0.shape != x0.shape:
        raise InvalidArgument(f"g must have the shape of x, {x0.shape}; got {g0.shape}.")
    max_entries = check_positive_int("max_entries", max_entries)
    check_choice("method", method, ("auto",) + finite_diff.METHODS)
    bound = np.zeros(g0.size) if entry_error is None else np.broadcast_to(
        as_float_array("entry_error", entry_error), g0.shape).ravel()
    rng = np.random.default_rng(seed)
    flat_g = g0.ravel()
    f0 = float(np.real(f(x0.copy())))  # shared by every directional derivative below
    evaluations = 1
    floor = 0.0

    def residual(indices: np.ndarray, signs: np.ndarray) -> tuple[float, float]:
        nonlocal evaluations, floor, method
        v = np.zeros(x0.size)
        v[indices] = signs
        estimate = None
        if method == "auto":
            try:
                estimate = finite_diff.directional(f, x0, v.reshape(x0.shape), method="complex", f0=f0)
                method = "complex"
            except InvalidArgument:  # f drops or refuses the imaginary part
                method = "richardson"
        if estimate is None:
            estimate = finite_diff.directional(f, x0, v.reshape(x0.shape), method=method, f0=f0)
        evaluations += estimate.evaluations
        if not estimate.checkable:
            raise InvalidArgument(f"a directional derivative could not be taken: {estimate.reason}.")
        # g·v rounds on the scale of Σ|g||v|; the estimate carries its own error; g its own rounding.
        error = estimate.error + 4 * np.finfo(np.float64).eps * float(np.abs(flat_g[indices]) @ np.abs(signs))
        error += SPREAD * float(np.linalg.norm(bound[indices])) / noise_factor
        floor = max(floor, noise_factor * error)
        return float(flat_g[indices] @ signs) - estimate.value, error

    everything = np.arange(x0.size)
    pending = []
    signs = rng.choice([-1.0, 1.0], size=x0.size) * rng.uniform(0.5, 1.5, size=x0.size)
    r, err = residual(everything, signs)
    if abs(r) > noise_factor * err:
        pending = [(everything, signs, r, err)]
    wrong, errors = [], []
    while pending:
        indices, signs, r, err = pending.pop()
        if len(indices) == 1:
            wrong.append(tuple(int(i) for i in np.unravel_index(indices[0], x0.shape)))
            errors.append(r / signs[0])
            if len(wrong) > max_entries:
                break
            continue
        half = len(indices) // 2
        r_first, err_first = residual(indices[:half], signs[:half])
        halves = ((indices[:half], signs[:half], r_first, err_first),
                  (indices[half:], signs[half:], r - r_first, err + err_first))  # r is linear in v
        pending.extend(h for h in halves if abs(h[2]) > noise_factor * h[3])
    complete = len(wrong) <= max_entries
    return Localization(tuple(wrong[:max_entries]), tuple(errors[:max_entries]), evaluations, complete, floor)
