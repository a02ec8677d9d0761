"""The seed's equations by number, as messages quote them (numbering of docs/equations.md)."""

from __future__ import annotations

from dataclasses import dataclass

_SUB = str.maketrans("0123456789+", "₀₁₂₃₄₅₆₇₈₉₊")


@dataclass(frozen=True)
class Equation:
    """An equation of the seed: its number and its formula in course notation."""

    number: str
    formula: str

    def __str__(self) -> str:
        return f"Eq. {self.number}: {self.formula}"


def _sub(i: int) -> str:
    return str(i).translate(_SUB)


LOSS_GRADIENT = Equation("12 + ce", "G_{L+1} = ∇_h ℓ_ce = S − I_y")
LOSS = Equation("ce", "ℓ_ce(h, y) = mean over the batch of −log S[y], S = softmax(h)")
SGD = Equation("SGD", "Wᵢ ← Wᵢ − lr · ∇Wᵢ ℓ_ce on each minibatch in turn")
EQ10 = Equation("10", "∇W₂ = σ(XW₁)ᵀ (S − I_y)")
EQ11 = Equation("11", "∇W₁ = Xᵀ ((S − I_y) W₂ᵀ ∘ σ'(XW₁))")


def eq14(i: int) -> Equation:
    """Eq. 14 for layer i: Gᵢ = (G_{i+1} ∘ σᵢ'(ZᵢWᵢ)) Wᵢᵀ."""
    s, n = _sub(i), _sub(i + 1)
    return Equation("14", f"G{s} = (G{n} ∘ σ{s}'(Z{s}W{s})) W{s}ᵀ")


def eq15(i: int) -> Equation:
    """Eq. 15 for layer i: ∇Wᵢ = Zᵢᵀ (G_{i+1} ∘ σᵢ'(ZᵢWᵢ))."""
    s, n = _sub(i), _sub(i + 1)
    return Equation("15", f"∇W{s} = Z{s}ᵀ (G{n} ∘ σ{s}'(Z{s}W{s}))")


def bias(i: int) -> Equation:
    """The bias form of Eq. 15: ∇bᵢ = 1ᵀ (G_{i+1} ∘ σᵢ'(ZᵢWᵢ + bᵢ))."""
    s, n = _sub(i), _sub(i + 1)
    return Equation("15, bias", f"∇b{s} = 1ᵀ (G{n} ∘ σ{s}'(Z{s}W{s} + b{s}))")


def for_tensor(name: str, depth: int, two_layer_form: bool = False) -> Equation:
    """The equation that defines the gradient called ``name`` (``W2``, ``b1``, ``G3``).

    With ``two_layer_form`` (L = 2, no bias, identity output) the weights cite
    the literal Eqs. 10 and 11 instead of the general Eq. 15.
    """
    kind, i = name[0], int(name[1:])
    if kind == "W":
        if two_layer_form and depth == 2:
            return EQ11 if i == 1 else EQ10
        return eq15(i)
    if kind == "b":
        return bias(i)
    if kind == "G":
        return LOSS_GRADIENT if i == depth + 1 else eq14(i)
    raise ValueError(f"no equation defines a tensor called {name!r}")
