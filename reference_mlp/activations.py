"""Elementwise activations σ with their derivatives σ', taken at the pre-activation.

The seed is explicit that σ' is evaluated at the pre-activation ZᵢWᵢ (+ bᵢ),
not at the activation Z_{i+1}; every ``derivative`` here takes the
pre-activation ``a``. All functions accept complex input so that the
complex-step witness can differentiate the whole network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from reference_mlp.validation import InvalidArgument, check_positive_float

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An elementwise σ with σ' and the points where σ is not differentiable."""

    name: str
    sigma: Callable[[Array], Array] = field(repr=False, compare=False)
    derivative: Callable[[Array], Array] = field(repr=False, compare=False)
    kinks: tuple[float, ...] = ()
    slope: float | None = None  # leaky_relu's negative slope; part of identity

    def __call__(self, a: Array) -> Array:
        return self.sigma(a)

    @property
    def label(self) -> str:
        """The name as the command line spells it, e.g. ``leaky_relu:0.1``."""
        return self.name if self.slope is None else f"{self.name}:{self.slope:g}"

    def piece(self, a: Array) -> Array:
        """Which smooth piece each entry of ``a`` lies on (0 for smooth σ).

        Two points lie on the same piece exactly when no kink separates them;
        a value sitting on a kink gets its own odd-numbered piece.
        """
        real = np.real(a)
        piece = np.zeros(real.shape, dtype=np.int8)
        for kink in self.kinks:
            piece += (real >= kink).astype(np.int8) + (real > kink).astype(np.int8)
        return piece


def _relu(a: Array) -> Array:
    return np.where(np.real(a) > 0, a, 0)


def _relu_derivative(a: Array) -> Array:
    # The subgradient at 0 is a choice in [0, 1]; 0 is the common one.
    return (np.real(a) > 0).astype(np.float64)


def _exp_minus_abs(a: Array) -> Array:
    """e^{−|a|} (e^{−a} or e^{a}, by the sign of the real part): never overflows."""
    return np.exp(np.where(np.real(a) >= 0, -a, a))


def _sigmoid(a: Array) -> Array:
    # σ(a) = 1/(1 + e^{−a}) = e^{a}/(1 + e^{a}); each side uses the form whose exp ≤ 1.
    e = _exp_minus_abs(a)
    return np.where(np.real(a) >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_derivative(a: Array) -> Array:
    # σ' = σ(1 − σ) = e^{−|a|}/(1 + e^{−|a|})², without the cancellation in 1 − σ.
    e = _exp_minus_abs(a)
    return e / (1.0 + e) ** 2


def _tanh_derivative(a: Array) -> Array:
    # tanh' = 1 − tanh² = sech² = 4e^{−2|a|}/(1 + e^{−2|a|})², accurate where tanh saturates.
    e = _exp_minus_abs(2.0 * a)
    return 4.0 * e / (1.0 + e) ** 2


def _softplus(a: Array) -> Array:
    # log(1 + e^a) = max(a, 0) + log(1 + e^{−|a|}), written so exp never overflows.
    return np.where(np.real(a) >= 0, a, 0) + np.log1p(_exp_minus_abs(a))


_GELU_C = np.sqrt(2.0 / np.pi)
_GELU_K = 0.044715


def _gelu(a: Array) -> Array:
    # Tanh form ½a(1 + tanh(u)), u = √(2/π)(a + 0.044715a³), computed as a·σ(2u)
    # since ½(1 + tanh u) = σ(2u), which keeps its accuracy in the far negative tail.
    return a * _sigmoid(2.0 * _GELU_C * (a + _GELU_K * a**3))


def _gelu_derivative(a: Array) -> Array:
    u2 = 2.0 * _GELU_C * (a + _GELU_K * a**3)
    return _sigmoid(u2) + a * _sigmoid_derivative(u2) * 2.0 * _GELU_C * (1.0 + 3.0 * _GELU_K * a**2)


def leaky_relu(slope: float = 0.01) -> Activation:
    """σ(a) = a for a > 0, slope·a otherwise; kink at 0."""
    slope = check_positive_float("leaky_relu slope", slope)
    return Activation(
        "leaky_relu",
        lambda a: np.where(np.real(a) > 0, a, slope * a),
        lambda a: np.where(np.real(a) > 0, 1.0, slope),
        kinks=(0.0,),
        slope=slope,
    )


identity = Activation("identity", lambda a: a, lambda a: np.ones(np.shape(a)))
relu = Activation("relu", _relu, _relu_derivative, kinks=(0.0,))
sigmoid = Activation("sigmoid", _sigmoid, _sigmoid_derivative)
tanh = Activation("tanh", np.tanh, _tanh_derivative)
softplus = Activation("softplus", _softplus, _sigmoid)  # softplus' = sigmoid
gelu = Activation("gelu", _gelu, _gelu_derivative)

ACTIVATIONS: dict[str, Activation] = {
    act.name: act for act in (identity, relu, leaky_relu(), sigmoid, tanh, softplus, gelu)
}
NAMES: tuple[str, ...] = tuple(ACTIVATIONS)


def get(spec: str | Activation) -> Activation:
    """Look up an activation by name (``"relu"``, ``"leaky_relu:0.2"``) or pass one through."""
    if isinstance(spec, Activation):
        return spec
    if not isinstance(spec, str):
        raise InvalidArgument(
            f"an activation must be a name or an Activation; got {type(spec).__name__} {spec!r}. "
            f"Known names: {', '.join(NAMES)}."
        )
    name, _, arg = spec.strip().partition(":")
    if name == "leaky_relu" and arg:
        try:
            return leaky_relu(float(arg))
        except ValueError:
            raise InvalidArgument(
                f"leaky_relu takes a positive slope after the colon, e.g. 'leaky_relu:0.1'; got {spec!r}."
            ) from None
    if name not in ACTIVATIONS or arg:
        raise InvalidArgument(
            f"unknown activation {spec!r}. Known activations: {', '.join(NAMES)} "
            f"(leaky_relu takes a slope as 'leaky_relu:0.1')."
        )
    return ACTIVATIONS[name]
