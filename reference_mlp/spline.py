"""Universal approximation in 1-D by a ReLU linear spline (Eqs. 6 and 7).

Sample f at d points of D = [lo, hi] and build
    Eq. 7: f̂(x) = Σᵢ sᵢ·max{0, wᵢx + bᵢ},  sᵢ ∈ {+1, −1},
a one-hidden-layer ReLU network that passes through every sample. The hidden
width grows with the number of samples, the impracticality the seed notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from reference_mlp.mlp import Architecture, Params, forward
from reference_mlp.validation import InvalidArgument, as_float_array, check_positive_int


@dataclass(frozen=True)
class ReluSpline:
    """f̂(x) = Σ signs[i]·max{0, w[i]·x + b[i]} (Eq. 7), exact at ``knots``."""

    w: np.ndarray
    b: np.ndarray
    signs: np.ndarray
    knots: np.ndarray

    @property
    def width(self) -> int:
        """The hidden width d of Eq. 7."""
        return len(self.w)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array("x", x)
        units = np.maximum(0.0, np.multiply.outer(x, self.w) + self.b)
        return units @ self.signs  # Eq. 7: Σ ±max{0, wᵢx + bᵢ}

    def as_mlp(self) -> tuple[Architecture, Params]:
        """The same f̂ as a 1-d-1 network h(X) = relu(XW₁ + b₁)W₂ (Eq. 5 with a bias)."""
        arch = Architecture.build((1, self.width, 1), hidden="relu", bias=(True, False))
        return arch, Params((self.w[None, :], self.signs[:, None].astype(float)), (self.b, None))

    def as_mlp_output(self, x: np.ndarray) -> np.ndarray:
        """Evaluate f̂ through the reference forward pass (Eq. 12) instead of Eq. 7."""
        arch, params = self.as_mlp()
        return forward(arch, params, np.reshape(x, (-1, 1))).Z[-1][:, 0]


def _bound(name: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name}, an end of the interval D = [lo, hi], must be a number; got {value!r}.") from None


def relu_spline(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, samples: int) -> ReluSpline:
    """Build the Eq. 7 network that interpolates ``f`` at ``samples`` equally spaced points of [lo, hi]."""
    if not callable(f):
        raise InvalidArgument(f"f must be a function of a float array; got {type(f).__name__}.")
    samples = check_positive_int("samples", samples)
    if samples < 2:
        raise InvalidArgument(f"a spline needs at least 2 samples to span the interval; got {samples}.")
    lo, hi = _bound("lo", lo), _bound("hi", hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InvalidArgument(f"the interval D = [lo, hi] needs finite lo < hi; got [{lo}, {hi}].")
    knots = np.linspace(lo, hi, samples)
    values = as_float_array("f(knots)", f(knots))
    if values.shape != knots.shape:
        raise InvalidArgument(f"f must map an array of shape {knots.shape} to the same shape; got {values.shape}.")
    slopes = np.diff(values) / np.diff(knots)
    # On D: f̂(x) = f(x₀) + s₁(x − x₀) + Σ_{k≥1} (s_{k+1} − s_k)·max{0, x − x_k}.
    # Each term c·max{0, z} is written sign(c)·max{0, |c|·z}, the form of Eq. 7;
    # the constant is c·max{0, 0·x + 1}.
    coeffs = np.concatenate([[values[0], slopes[0]], np.diff(slopes)])
    w = np.concatenate([[0.0, 1.0], np.ones(samples - 2)])
    b = np.concatenate([[1.0, -knots[0]], -knots[1:-1]])
    signs = np.where(coeffs < 0, -1.0, 1.0)
    return ReluSpline(np.abs(coeffs) * w, np.abs(coeffs) * b, signs, knots)


def max_error(f: Callable[[np.ndarray], np.ndarray], approx: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, points: int = 10_001) -> float:
    """max_{x∈D} |f(x) − f̂(x)| on a dense grid of D = [lo, hi] (the ε of Eq. 6)."""
    x = np.linspace(_bound("lo", lo), _bound("hi", hi), check_positive_int("points", points))
    return float(np.max(np.abs(f(x) - approx(x))))
