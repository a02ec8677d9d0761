"""Finite differences of the reference network that use its structure: the witness for a few forward passes.

Eq. 12 is linear in each weight matrix. Moving Wᵢ by t·V moves only the
pre-activation, Aᵢ(t) = ZᵢWᵢ + bᵢ + t·ZᵢV, and leaves Z₁..Zᵢ as they were. So

- ``directional``: ∇_{Wᵢ}ℓ · V costs one product ZᵢV (less for a rank-one
  V = abᵀ, where ZᵢV = (Zᵢa)bᵀ) and a few passes through the layers after i;
- ``gradient``: perturbing one entry (p, q) of Wᵢ adds t·Zᵢ[:, p] to column q
  of Aᵢ and nothing else, and the next layer sees a rank-one change
  ΔZ_{i+1}[:, q] W_{i+1}[q, :]. Every entry of a column is perturbed in one
  stacked evaluation instead of one full forward pass each.

Both are kink-aware like ``finite_diff``: a perturbation that moves any
pre-activation onto another smooth piece makes that estimate not checkable.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from gradcheck import finite_diff
from gradcheck.witnesses import Problem
from reference_mlp import mlp
from reference_mlp.loss import example_losses, one_hot, reduce_losses
from reference_mlp.validation import InvalidArgument, as_float_array, check_choice


def parameter(problem: Problem, name: str) -> tuple[str, int]:
    """Split ``"W2"`` into ("W", 2) after checking the network has that tensor."""
    names = tuple(problem.params.tensors())
    if name not in names:
        raise InvalidArgument(f"tensor must be one of the network's parameters {', '.join(names)}; got {name!r}.")
    return name[0], int(name[1:])


def _tail(problem: Problem, layer: int, A: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """ℓ as a function of the pre-activation A of ``layer`` (leading axes kept), and every pre-activation it passes."""
    p = problem
    rest = mlp.propagate(p.arch, p.params, p.arch.activations[layer - 1](A), start=layer + 1)
    true_class = one_hot(p.y, p.arch.widths[-1]) > 0
    return reduce_losses(example_losses(rest.Z[-1], true_class), p.reduction), (A,) + rest.A


def _pieces(problem: Problem, layer: int, As: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    return [sigma.piece(a) for sigma, a in zip(problem.arch.activations[layer - 1 :], As)]


def _crossed(now: list[np.ndarray], before: list[np.ndarray]) -> np.ndarray:
    """For each stacked evaluation, whether any pre-activation left its smooth piece."""
    out = np.zeros(now[0].shape[:-2], dtype=bool) if now else np.zeros((), dtype=bool)
    for a, b in zip(now, before):
        out |= np.any(a != b, axis=(-2, -1))
    return out


def directional(
    problem: Problem, name: str, v: np.ndarray, *, method: str = "complex", cache: mlp.Cache | None = None,
    loss: float | None = None, on_kink: bool = True,
) -> finite_diff.Directional:
    """Estimate ∇_{name}ℓ · v by moving only the pre-activation of the tensor's layer.

    ``method`` is ``"complex"`` (one evaluation, exact, never crosses a kink),
    ``"richardson"`` or ``"central"``. ``cache`` and ``loss`` reuse a forward
    pass already made on the problem; ``on_kink=False`` says no pre-activation
    sits exactly on a kink, which spares the complex step its kink probe.
    """
    kind, layer = parameter(problem, name)
    p = problem
    v, norm = finite_diff.direction(v, p.params.tensors()[name].shape, name)
    cache = cache or mlp.forward(p.arch, p.params, p.X)
    A0 = cache.A[layer - 1]
    # Eq. 12 is linear in Wᵢ and bᵢ: Aᵢ(t) = Zᵢ(Wᵢ + t·u) + bᵢ = Aᵢ + t·Zᵢu (or Aᵢ + t·u for bᵢ).
    dA = cache.Z[layer - 1] @ (v / norm) if kind == "W" else np.broadcast_to(v / norm, A0.shape)
    return _along(problem, layer, A0, dA[None], np.array([norm]), method, loss, on_kink)[0]


def rank_one(
    problem: Problem, name: str, a: np.ndarray, b: np.ndarray, *, method: str = "complex",
    cache: mlp.Cache | None = None, loss: float | None = None, on_kink: bool = True,
) -> tuple[finite_diff.Directional, ...]:
    """Estimate ∇_{Wᵢ}ℓ · aₖbₖᵀ = aₖᵀ(∇_{Wᵢ}ℓ)bₖ for every row k of ``a`` and ``b``, all in one stacked pass.

    Zᵢ(abᵀ) = (Zᵢa)bᵀ costs no matrix product. A single ``a`` and ``b``
    (vectors) give a one-element tuple. The keywords are those of :func:`directional`.
    """
    kind, layer = parameter(problem, name)
    if kind != "W":
        raise InvalidArgument(f"a rank-one direction needs a weight matrix; {name} is a bias vector, use directional().")
    n_in, n_out = problem.params.tensors()[name].shape
    a, b = (np.atleast_2d(as_float_array(label, z).astype(np.float64)) for label, z in (("a", a), ("b", b)))
    if a.shape[1:] != (n_in,) or b.shape[1:] != (n_out,) or len(a) != len(b):
        raise InvalidArgument(f"a and b must have lengths {n_in} and {n_out} (the shape of {name}), one row per "
                              f"direction; got shapes {a.shape} and {b.shape}.")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    if not norms.all():
        raise InvalidArgument("a or b is all zeros; a directional derivative needs a nonzero direction.")
    cache = cache or mlp.forward(problem.arch, problem.params, problem.X)
    # Eq. 12 along abᵀ: Zᵢ(abᵀ) = (Zᵢa)bᵀ, for every direction at once.
    dA = (cache.Z[layer - 1] @ a.T).T[:, :, None] * (b / norms[:, None])[:, None, :]
    return _along(problem, layer, cache.A[layer - 1], dA, norms, method, loss, on_kink)


def _along(problem, layer, A0, dA, norms, method, loss, on_kink) -> tuple[finite_diff.Directional, ...]:
    """Directional derivatives along unit moves dA[k] of the pre-activation, scaled back by norms[k]."""
    # Off every kink the complex step cannot leave its piece: only a point on a kink needs the probe.
    probe = on_kink or method != "complex"
    pieces0 = _pieces(problem, layer, _tail(problem, layer, A0)[1]) if probe else None
    evaluations = 0

    def at(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nonlocal evaluations
        evaluations += 1
        losses, As = _tail(problem, layer, A0 + t[:, None, None] * dA)
        return losses, _crossed(_pieces(problem, layer, As), pieces0) if probe else np.zeros(len(t), dtype=bool)

    if loss is None:
        loss = float(_tail(problem, layer, A0)[0])
        evaluations += 1
    values, errors, reasons = finite_diff.stacked(at, np.zeros(len(norms)), method, loss, probe=probe)
    if method == "complex" and probe:
        evaluations -= 2  # the kink probe at ±4ε is not an estimate's evaluation
    return tuple(finite_diff.Directional(float(v * n), float(e * n), bool(np.isfinite(v)), method, evaluations, r or None)
                 for v, e, n, r in zip(values, errors, norms, reasons))


def gradient(problem: Problem, name: str, *, method: str = "richardson") -> finite_diff.Estimate:
    """Estimate every entry of ∇_{name}ℓ, one stacked evaluation per column instead of one forward pass per entry."""
    check_choice("method", method, finite_diff.METHODS)
    kind, layer = parameter(problem, name)
    p = problem
    x = p.params.tensors()[name]
    cache = mlp.forward(p.arch, p.params, p.X)
    A0 = cache.A[layer - 1]
    f0, As0 = _tail(p, layer, A0)
    pieces0 = _pieces(p, layer, As0)
    # Row r of `moves` is how column q of Aᵢ moves per unit step of entry (r, q):
    # Zᵢ[:, r] for Wᵢ (Eq. 12, one rank-one update), a column of ones for bᵢ.
    moves = cache.Z[layer - 1].T if kind == "W" else np.ones((1, A0.shape[0]))
    entries = x.reshape(len(moves), -1)
    columns = [_column_estimates(p, layer, cache, pieces0, float(f0), q, moves, entries[:, q], method)
               for q in range(A0.shape[1])]
    values, error, reasons = (np.stack([c[k] for c in columns], axis=1) for k in range(3))
    found = sorted({r for r in reasons.ravel() if r})
    return finite_diff.Estimate(values.reshape(x.shape), error.reshape(x.shape), np.isfinite(values).reshape(x.shape),
                                method, len(columns) * finite_diff.EVALUATIONS[method], "; ".join(found) or None)


def _column_estimates(p, layer, cache, pieces0, f0, q, moves, x, method):
    """Estimates for every entry feeding column q of Aᵢ, all perturbed at once."""
    A0 = cache.A[layer - 1]

    def at(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        column = A0[:, q] + t[:, None] * moves  # (entries, m): the perturbed column q of Aᵢ
        if layer < p.arch.depth:
            # The next pre-activation changes by the rank-one ΔZ_{i+1}[:, q] W_{i+1}[q, :].
            dZ = p.arch.activations[layer - 1](column) - cache.Z[layer][:, q]
            after = cache.A[layer] + dZ[..., None] * p.params.W[layer][q]
            losses, As = _tail(p, layer + 1, after)
            crossed = _crossed(_pieces(p, layer + 1, As), pieces0[1:])
        else:
            stacked = np.repeat(A0[None].astype(column.dtype), len(moves), axis=0)
            stacked[:, :, q] = column
            losses, As = _tail(p, layer, stacked)
            crossed = np.zeros(len(moves), dtype=bool)
        crossed |= np.any(p.arch.activations[layer - 1].piece(column) != pieces0[0][:, q], axis=-1)
        return losses, crossed

    return finite_diff.stacked(at, x, method, f0)


def loss_function(problem: Problem, name: str) -> Callable[[np.ndarray], float]:
    """ℓ as a function of one parameter tensor, the others fixed (what a per-entry loop differentiates)."""
    parameter(problem, name)
    p = problem
    return lambda value: mlp.loss(p.arch, p.params.replace(name, value), p.X, p.y, p.reduction)


def region_function(problem: Problem, name: str) -> Callable[[np.ndarray], np.ndarray]:
    """Which smooth piece the network is on, as a function of one parameter tensor."""
    parameter(problem, name)
    p = problem
    return lambda value: mlp.kink_pieces(p.arch, p.params.replace(name, value), p.X)
