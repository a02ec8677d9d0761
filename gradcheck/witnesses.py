"""Three independent witnesses of the true gradient, and whether they agree.

- closed form: the seed's equations (Eqs. 14 and 15) in ``reference_mlp``;
- JAX: autodiff of an independent ``jax.numpy`` copy of the network (``oracle``);
- finite differences of the numpy forward pass (``finite_diff``).

Each witness yields every ∇Wᵢ, ∇bᵢ and every Gᵢ = ∂ℓ/∂Zᵢ. Three pairs are
compared tensor by tensor; finite-difference entries whose perturbation
crosses a kink are excluded and counted, never judged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradcheck import equations, finite_diff, oracle
from gradcheck.compare import Comparison, Verdict, compare
from reference_mlp import mlp
from reference_mlp.loss import REDUCTIONS
from reference_mlp.mlp import Architecture, Params
from reference_mlp.validation import InvalidArgument, check_choice, check_positive_int

CLOSED_FORM = "closed form"
JAX = "JAX"
FD = "finite differences"
PAIRS: tuple[tuple[str, str], ...] = ((CLOSED_FORM, JAX), (CLOSED_FORM, FD), (JAX, FD))


@dataclass(frozen=True)
class Problem:
    """One network, batch and loss convention whose gradients are witnessed."""

    arch: Architecture
    params: Params
    X: np.ndarray
    y: np.ndarray
    reduction: str = "mean"
    seed: int | None = None

    def describe(self) -> str:
        """``5-7-3 tanh bias, m=8, mean``: enough to rebuild the problem with its seed."""
        return f"{self.arch.describe()}, m={len(self.X)}, {self.reduction}"


def make_problem(
    arch: Architecture, *, m: int = 8, reduction: str = "mean", seed: int = 0, scale: float = 1.0
) -> Problem:
    """Draw X ~ N(0, scale²), labels uniformly over the k classes, and weights, all from ``seed``."""
    if not isinstance(arch, Architecture):
        raise InvalidArgument(f"arch must be a reference_mlp.Architecture; got {type(arch).__name__}.")
    m = check_positive_int("m", m)
    check_choice("reduction", reduction, REDUCTIONS)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, arch.widths[0])) * scale
    y = rng.integers(0, arch.widths[-1], size=m)
    return Problem(arch, mlp.init_params(arch, rng), X, y, reduction, seed)


def _gradient_tensors(grads: mlp.Gradients) -> dict[str, np.ndarray]:
    named = grads.tensors()
    named.update({f"G{i}": G for i, G in enumerate(grads.G, start=1)})
    return named


def closed_form(problem: Problem) -> dict[str, np.ndarray]:
    """Every gradient by the seed's equations (Eqs. 14, 15 and the bias form)."""
    p = problem
    return _gradient_tensors(mlp.gradients(p.arch, p.params, p.X, p.y, p.reduction))


def jax_autodiff(problem: Problem) -> dict[str, np.ndarray]:
    """Every gradient by JAX reverse-mode autodiff in float64."""
    p = problem
    return _gradient_tensors(oracle.gradients(p.arch, p.params, p.X, p.y, p.reduction))


def _tail(arch: Architecture, params: Params, i: int) -> tuple[Architecture, Params]:
    """Layers i..L: the network that maps Zᵢ to the logits."""
    cut = slice(i - 1, None)
    return Architecture(arch.widths[cut], arch.activations[cut], arch.bias[cut]), Params(params.W[cut], params.b[cut])


def finite_differences(problem: Problem, method: str = "richardson") -> dict[str, finite_diff.Estimate]:
    """Every gradient by finite differences of the numpy forward pass, kink-aware."""
    p = problem
    estimates = {}
    for name, value in p.params.tensors().items():
        def loss(t, name=name):
            return mlp.loss(p.arch, p.params.replace(name, t), p.X, p.y, p.reduction)

        def pieces(t, name=name):
            return mlp.kink_pieces(p.arch, p.params.replace(name, t), p.X)

        estimates[name] = finite_diff.gradient(loss, value, method=method, region=pieces)
    Z = mlp.forward(p.arch, p.params, p.X).Z
    for i in range(1, p.arch.depth + 2):
        tail_arch, tail_params = _tail(p.arch, p.params, i)
        estimates[f"G{i}"] = finite_diff.gradient(
            lambda z: mlp.loss(tail_arch, tail_params, z, p.y, p.reduction),
            Z[i - 1],
            method=method,
            region=lambda z: mlp.kink_pieces(tail_arch, tail_params, z),
        )
    return estimates


@dataclass(frozen=True)
class Agreement:
    """The three witnesses compared pairwise on one problem."""

    problem: Problem
    comparisons: tuple[Comparison, ...]
    fd_method: str
    seconds: float

    def pair(self, actual: str, expected: str) -> tuple[Comparison, ...]:
        """The comparisons of one pair of witnesses, every tensor."""
        return tuple(c for c in self.comparisons if c.witnesses == (actual, expected))

    def max_rel_err(self, actual: str, expected: str) -> float:
        """The largest relative disagreement of a pair over all its tensors."""
        return max((c.max_rel_err for c in self.pair(actual, expected)), default=0.0)

    @property
    def not_checkable(self) -> int:
        """Finite-difference entries excluded because their perturbation crosses a kink."""
        return sum(c.not_checkable for c in self.pair(CLOSED_FORM, FD))

    @property
    def verdict(self) -> Verdict:
        """FAIL if a pair disagrees, INCONCLUSIVE if finite differences could not judge a tensor (kinks), else PASS."""
        if any(c.failed for c in self.comparisons):
            return Verdict.FAIL
        return Verdict.PASS if all(c.passed for c in self.comparisons) else Verdict.INCONCLUSIVE

    @property
    def passed(self) -> bool:
        """True when every pair agrees on every tensor, each judged on enough of its entries."""
        return self.verdict is Verdict.PASS


def agree(problem: Problem, fd_method: str = "richardson") -> Agreement:
    """Compute all three witnesses on ``problem`` and compare every pair on every tensor."""
    check_choice("fd_method", fd_method, finite_diff.METHODS)
    start = time.perf_counter()
    p = problem
    exact = {CLOSED_FORM: closed_form(p), JAX: jax_autodiff(p)}
    estimates = finite_differences(p, fd_method)
    two_layer_form = p.arch.depth == 2 and not any(p.arch.bias) and p.arch.activations[-1].name == "identity"
    comparisons = []
    for name, estimate in estimates.items():
        context = dict(
            tensor=name,
            equation=equations.for_tensor(name, p.arch.depth, two_layer_form),
            problem=p.describe(),
            seed=p.seed,
        )
        comparisons.append(compare(exact[CLOSED_FORM][name], exact[JAX][name], witnesses=PAIRS[0], **context))
        for witness in (CLOSED_FORM, JAX):
            comparisons.append(
                compare(
                    exact[witness][name], estimate.values, witnesses=(witness, FD), uncertainty=estimate.error,
                    checkable=estimate.checkable, not_checkable_reason=estimate.reason, **context,
                )
            )
    return Agreement(p, tuple(comparisons), fd_method, time.perf_counter() - start)
