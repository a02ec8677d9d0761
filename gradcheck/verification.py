"""The default verification of a gradient on a known network: every entry, three witnesses, a few forward passes.

Given a problem the reference network can compute and your gradients of its
parameters, ``verify`` checks

1. every entry against the closed form (Eqs. 14 and 15): one forward and one
   backward pass in numpy;
2. ⟨yours, abᵀ⟩ = aᵀ(yours)b along ``directions`` seeded random rank-one
   directions per tensor against finite differences of the forward pass
   (``network_fd``): the witness that needs no derivative at all;
3. every entry against JAX autodiff in float64, one compiled call: under the
   default ``witness="auto"`` only for the tensors the closed form rejects (so a
   failure is confirmed by autodiff) and those no direction can judge (so a pass
   is still backed by two witnesses); a pass the directions back costs no JAX
   at all. ``witness="all"`` asks JAX about every tensor of every call.

Cost on the MNIST-sized net is a handful of forward passes, against the 2P
loss evaluations of a per-entry check (``bench/peers.py`` counts both).

Entries fed by a pre-activation sitting on a kink are judged against an
interval: σ' has no value there, any choice between the left and right slopes
is right, and the witnesses' σ'(0) = 0 is a convention, not a rule your code
must follow. Interval arithmetic through Eqs. 14 and 15 gives the range of
every entry over all such choices; a value outside it is wrong whatever your
code chose. "On" means within the rounding error of the arithmetic behind your
gradients (float32 when they hold only float32 values, never coarser): float32
code may compute a pre-activation 1e-7 from the kink on the other side. Near a
kink (but not on it) every entry is checked exactly: the complex step never
crosses one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np

from gradcheck import equations, network_fd, oracle
from gradcheck.compare import CHUNK, Comparison, Tolerance, Verdict, compare, failed, tolerance_for
from gradcheck.finite_diff import METHODS
from gradcheck.precision import unit_roundoff
from gradcheck.report import Rendered, render, summary
from gradcheck.witnesses import CLOSED_FORM, FD, JAX, Problem
from reference_mlp import mlp
from reference_mlp.validation import InvalidArgument, check_choice, check_positive_int

YOURS = "yours"
# Which exact witnesses judge every entry: "auto" the closed form, with JAX confirming what it rejects;
# "all" both on every tensor; "closed-form" or "jax" that one alone. The directions come with each.
WITNESSES = ("auto", "all", "closed-form", "jax")
KINK_REASON = ("pre-activations feeding these entries sit on a kink (within your arithmetic's rounding), where any σ' "
               "between the left and right slopes is right; each such entry is judged against the interval those "
               "choices give, and is not checkable where that interval is wider than the tensor's largest entry")


@dataclass(frozen=True, repr=False)
class Verification(Rendered):
    """Your gradients of one problem, judged entrywise by two exact witnesses and along random directions by a third."""

    problem: Problem
    comparisons: tuple[Comparison, ...]
    directions: int
    seconds: float
    witness: str = "auto"

    @property
    def verdict(self) -> Verdict:
        """FAIL if any comparison failed, INCONCLUSIVE if any could not judge enough of its tensor, else PASS."""
        if any(c.failed for c in self.comparisons):
            return Verdict.FAIL
        return Verdict.PASS if all(c.passed for c in self.comparisons) else Verdict.INCONCLUSIVE

    @property
    def passed(self) -> bool:
        """True when every comparison judged enough of its tensor and agreed."""
        return self.verdict is Verdict.PASS

    @property
    def inconclusive(self) -> bool:
        """True when nothing failed but some tensor could not be judged (e.g. every entry sits on a kink)."""
        return self.verdict is Verdict.INCONCLUSIVE

    @property
    def failures(self) -> tuple[Comparison, ...]:
        """The comparisons that failed, in the order they were made."""
        return tuple(c for c in self.comparisons if c.failed)

    @property
    def not_checkable(self) -> int:
        """Entries of your gradients no exact witness could judge (they sit on a kink)."""
        exact = JAX if self.witness == "jax" else CLOSED_FORM
        return sum(c.not_checkable for c in self.comparisons if c.witnesses[1] == exact)

    def headline(self) -> str:
        """One line: ``verify: FAIL, 2 of 8 comparisons failed (784-128-10 relu, …)``."""
        where = f"({self.problem.describe()}, seed {self.problem.seed})"
        n = len(self.comparisons)
        if self.verdict is Verdict.FAIL:
            return f"verify: FAIL, {len(self.failures)} of {n} comparisons failed {where}"
        if self.verdict is Verdict.INCONCLUSIVE:
            k = sum(c.verdict is Verdict.INCONCLUSIVE for c in self.comparisons)
            return f"verify: INCONCLUSIVE, {k} of {n} comparisons could not judge enough entries {where}"
        return f"verify: PASS, all {n} comparisons agree {where}"

    def render(self, *, verbose: bool = False) -> str:
        """The headline, one summary line per comparison, then every failing or undecided one in full."""
        shown = self.comparisons if verbose else tuple(c for c in self.comparisons if not c.passed)
        return "\n\n".join(["\n".join([self.headline(), *(f"  {summary(c)}" for c in self.comparisons)]),
                            *(render(c) for c in shown)])

    label = "verify"


def verify(
    problem: Problem,
    gradients: Mapping[str, Any],
    *,
    directions: int = 2,
    method: str = "complex",
    seed: int = 0,
    witness: str = "auto",
) -> Verification:
    """Judge ``gradients`` (``{"W1": …, "b1": …, …}``, one per parameter) as the gradients of ``problem``'s loss.

    ``directions`` random rank-one directions per tensor (drawn from ``seed``)
    are checked by finite differences with ``method`` ("complex", "richardson"
    or "central"). ``witness`` says which exact witnesses judge every entry:
    ``"auto"`` (the closed form; JAX judges again each tensor it rejects),
    ``"all"`` (the closed form and JAX, every tensor), ``"closed-form"`` or
    ``"jax"`` alone. Under ``"auto"`` JAX also judges every tensor the
    directions cannot (all of them with ``directions=0``; one whose every entry
    is fed by a unit on a kink), so a pass is still backed by two witnesses.
    """
    start = time.perf_counter()
    if not isinstance(problem, Problem):
        raise InvalidArgument(f"problem must be a gradcheck.Problem (see make_problem); got {type(problem).__name__}.")
    directions = check_positive_int("directions", directions) if directions else 0
    check_choice("method", method, METHODS)
    check_choice("witness", witness, WITNESSES)
    p = _in_float64(problem)  # the witnesses judge float32 code too, from float64 truth
    names = tuple(p.params.tensors())
    yours = _named(gradients, names)
    cache = mlp.forward(p.arch, p.params, p.X)
    closed = mlp.backward(p.arch, p.params, cache, p.y, p.reduction, input_gradient=False)
    roundoff = {name: unit_roundoff([yours[name]]) for name in names}
    kinks = _at_kink(p, cache, max(roundoff.values()))  # float32's when any tensor holds float32 values
    rng = np.random.default_rng(seed)
    two_layer_form = p.arch.depth == 2 and not any(p.arch.bias) and p.arch.activations[-1].name == "identity"
    contexts = {name: dict(equation=equations.for_tensor(name, p.arch.depth, two_layer_form), problem=p.describe(),
                           seed=p.seed) for name in names}
    records: dict[str, list[Comparison]] = {name: [] for name in names}
    # A tensor of float32 values (float32 arithmetic, returned as float64 or not) is judged as float32:
    # from the values alone it cannot be told from float64 arithmetic rounded at the end, and failing
    # correct float32 code would be the worse mistake.
    tol = {name: tolerance_for(np.float32) if roundoff[name] > np.finfo(np.float64).eps else None for name in names}

    def against(by: str, truth: mlp.Gradients, spread: float, only: list[str] | None = None) -> None:
        # With units on a kink, every entry is judged against the interval all valid σ' there allow:
        # around the interval's center (closed form), or around one valid choice (JAX's), twice as wide.
        for name, expected in truth.tensors().items():
            if only is not None and name not in only:
                continue
            bounded = kinks is not None and kinks.radius[name].any()
            mask = ~kinks.unjudged(name) if bounded else None
            record = compare(
                yours[name], expected, tensor=name, witnesses=(YOURS, by), checkable=mask, tolerance=tol[name],
                uncertainty=spread * kinks.radius[name] if bounded else None,
                not_checkable_reason=KINK_REASON if bounded else None, **contexts[name])
            if bounded:
                record = replace(record, bounded=int(np.count_nonzero((kinks.radius[name] > 0) & mask)))
            records[name].append(record)

    if witness != "jax":
        against(CLOSED_FORM, closed if kinks is None else kinks.center, 1.0)
    # Directions see only entries no kink reaches; a tensor the kinks reach everywhere is left to the
    # two exact witnesses, which judge all of it against the interval.
    skips = {name: None if kinks is None else kinks.radius[name] > 0 for name in names}
    undirected = [name for name in names if not directions or (skips[name] is not None and skips[name].all())]
    # "auto" backs every verdict by a second witness: the directions back a pass (JAX judges the tensors
    # they cannot), and JAX confirms each tensor the closed form rejects.
    rejected = [name for name in names if any(c.failed for c in records[name])]
    everything = witness in ("all", "jax")
    asked = [name for name in names if name in rejected or name in undirected]
    if everything or (witness == "auto" and asked):
        against(JAX, oracle.gradients(p.arch, p.params, p.X, p.y, p.reduction, inner=False), 2.0,
                only=None if everything else asked)
    for name in names:
        skip = skips[name]
        if name not in undirected:
            records[name] += _directional(p, name, yours[name], rng, directions, method, cache, closed.loss,
                                          kinks is not None, skip if skip is not None and skip.any() else None,
                                          contexts[name], tol[name])
    comparisons = tuple(c for name in names for c in records[name])
    return Verification(problem, comparisons, directions, time.perf_counter() - start, witness)


def along_directions(
    problem: Problem, gradients: Mapping[str, Any], *, directions: int = 2, method: str = "complex", seed: int = 0,
    tolerance: Tolerance | None = None,
) -> list[Comparison]:
    """The finite-difference witness alone: ⟨yours, v⟩ along ``directions`` seeded random directions per tensor.

    ``gradients`` may name any subset of the parameters; each record is
    called ``W1·v1``, ``W1·v2``, … and judged with ``tolerance`` (default: by
    the dtype of your tensor).
    """
    p = _in_float64(problem)
    params = p.params.tensors()
    unknown = [str(n) for n in gradients if n not in params]
    if unknown:
        raise InvalidArgument(f"gradients may name only this network's parameters, {', '.join(params)}; got {', '.join(unknown)}.")
    cache = mlp.forward(p.arch, p.params, p.X)
    loss = float(mlp.backward(p.arch, p.params, cache, p.y, p.reduction, input_gradient=False).loss)
    rng = np.random.default_rng(seed)
    context = dict(problem=p.describe(), seed=p.seed, equation=None)
    directions = check_positive_int("directions", directions)
    return [c for name, given in gradients.items()
            for c in _directional(p, name, given, rng, directions, method, cache, loss, True, None, context, tolerance)]


def _in_float64(p: Problem) -> Problem:
    def wide(x):
        return None if x is None else np.asarray(x, dtype=np.float64)

    params = mlp.Params(tuple(wide(W) for W in p.params.W), tuple(wide(b) for b in p.params.b))
    return Problem(p.arch, params, wide(p.X), p.y, p.reduction, p.seed)


def _named(gradients: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(gradients, Mapping):
        raise InvalidArgument(f"gradients must be a dict from tensor name to array, like {{'W1': …}}; got {type(gradients).__name__}.")
    missing = [n for n in names if n not in gradients]
    extra = [str(n) for n in gradients if n not in names]
    if missing or extra:
        raise InvalidArgument(
            f"gradients must name exactly this network's parameters, {', '.join(names)}; "
            + "; ".join(part for part in (f"missing {', '.join(missing)}" if missing else "",
                                          f"unexpected {', '.join(extra)}" if extra else "") if part) + "."
        )
    return dict(gradients)


def _directional(p: Problem, name: str, given: Any, rng: np.random.Generator, directions: int, method: str,
                 cache: mlp.Cache, loss: float, on_kink: bool, skip: np.ndarray | None, context: dict,
                 tolerance: Tolerance | None = None) -> list[Comparison]:
    """⟨yours, v⟩ against finite differences along v: v = abᵀ for a matrix, a random vector for a bias.

    Entries in ``skip`` (fed by a unit on a kink) are zeroed in v, so neither side depends on them.
    """
    shape = p.params.tensors()[name].shape
    labels = [f"{name}·v{k + 1}" for k in range(directions)]
    draws = [(rng.standard_normal(shape[0]), rng.standard_normal(shape[1]) if len(shape) == 2 else None)
             for _ in labels]
    given = np.asarray(given)
    if given.shape != shape or given.dtype.kind not in "biuf":
        return [failed(label, (), f"not compared along directions: {name} must be a real array of shape {shape}",
                       witnesses=(YOURS, FD), **context) for label in labels]
    common = dict(method=method, cache=cache, loss=loss, on_kink=on_kink)
    tol = tolerance or tolerance_for(given.dtype)
    if skip is None and len(shape) == 2:
        a, b = (np.array(side) for side in zip(*draws))
        estimates = network_fd.rank_one(p, name, a, b, **common)
        given = given.astype(np.float64, copy=False)
        projected = np.sum((a @ given) * b, axis=1)  # aₖᵀ(yours)bₖ
        # Σᵢⱼ|aᵢ||yoursᵢⱼ||bⱼ| = |a|ᵀ|yours||b|: one more matrix-vector product, and exactly the scale
        # the entrywise rule allows (each entry off by rtol·|yoursᵢⱼ|), not the √P-looser Cauchy–Schwarz bound.
        magnitude = np.sum(_abs_product(np.abs(a), given) * np.abs(b), axis=1)
    else:
        vs = [a if b is None else np.outer(a, b) for a, b in draws]
        vs = [v if skip is None else np.where(skip, 0.0, v) for v in vs]
        if not vs[0].any():
            return [compare(0.0, np.nan, tensor=label, witnesses=(YOURS, FD), not_checkable_reason=KINK_REASON, **context)
                    for label in labels]
        estimates = [network_fd.directional(p, name, v, **common) for v in vs]
        projected = [np.sum(given * v) for v in vs]
        magnitude = [np.sum(np.abs(given * v)) for v in vs]
    # A sum of P products rounds on the scale of Σ|v||yours| (or its bound), not of the (possibly cancelling) result.
    return [compare(float(value), e.value if e.checkable else np.nan, tensor=label, witnesses=(YOURS, FD), tolerance=tol,
                    uncertainty=np.asarray(tol.rtol * size + e.error), not_checkable_reason=e.reason, **context)
            for label, e, value, size in zip(labels, estimates, projected, magnitude)]


def _abs_product(left: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``left @ |matrix|``, a block of rows at a time through one small buffer: no copy of |matrix| as a whole."""
    rows = max(1, CHUNK // max(matrix.shape[1], 1))
    buffer = np.empty((min(rows, matrix.shape[0]), matrix.shape[1]))
    out = np.zeros((left.shape[0], matrix.shape[1]))
    for start in range(0, matrix.shape[0], rows):
        block = np.abs(matrix[start:start + rows], out=buffer[:min(rows, matrix.shape[0] - start)])
        out += left[:, start:start + rows] @ block
    return out


@dataclass(frozen=True)
class KinkBounds:
    """Where σ' is ambiguous, the gradients every valid choice of it gives: a center and a radius per entry."""

    center: mlp.Gradients  # σ' at ambiguous units set to the middle of [left slope, right slope]
    radius: dict[str, np.ndarray]  # |any valid choice − center| ≤ radius, entrywise
    units: int  # how many pre-activations sit on a kink

    def unjudged(self, name: str) -> np.ndarray:
        """Entries whose interval is wider than the tensor's largest entry: no value could be told wrong there."""
        scale = float(np.max(np.abs(self.center.tensors()[name]), initial=0.0))
        return self.radius[name] > scale


def _at_kink(p: Problem, cache: mlp.Cache, u: float) -> KinkBounds | None:
    """Bound the gradients over every valid σ' at the pre-activations within rounding of a kink.

    Code computing in unit roundoff u gets Aᵢ = ZᵢWᵢ + bᵢ wrong by about
    √n·u·‖Zᵢ row‖·‖Wᵢ column‖, so a pre-activation closer than that to a kink
    may fall on either side in it (exactly on it in float64), and any σ' in
    [left slope, right slope] is right there. The gradients are multilinear in
    those choices, so interval arithmetic through Eqs. 14 and 15 bounds them:
    with σ' = c ± r at the ambiguous units (c the middle, r the half-width),

        δᵢ = G_{i+1} ∘ σᵢ'      center C∘c,  radius |C|∘r + R∘(|c| + r)
        ∇Wᵢ = Zᵢᵀ δᵢ            radius |Zᵢ|ᵀ δ_r        (Eq. 15)
        G_i = δᵢ Wᵢᵀ            radius δ_r |Wᵢ|ᵀ         (Eq. 14)

    A value outside [center − radius, center + radius] is wrong for every choice.
    """
    near, mid, half = [], [], []
    for i, (sigma, A) in enumerate(zip(p.arch.activations, cache.A)):
        none = None
        if sigma.kinks:
            Z, W, b = cache.Z[i], p.params.W[i], p.params.b[i]
            gap = np.min([np.abs(A - kink) for kink in sigma.kinks], axis=0)
            # Cauchy–Schwarz bounds Σ|Z||W| by the norms: the rounding band without another product.
            widest = 4 * np.sqrt(W.shape[0]) * u * (np.linalg.norm(Z) * np.linalg.norm(W) + (0 if b is None else np.abs(b).max()))
            if gap.min() <= widest:
                band = 4 * np.sqrt(W.shape[0]) * u * (np.outer(np.linalg.norm(Z, axis=1), np.linalg.norm(W, axis=0))
                                                       + (0 if b is None else np.abs(b)))
                none = gap <= band
        if none is None or not none.any():
            near.append(None), mid.append(None), half.append(None)
            continue
        nearest = np.argmin([np.abs(A - kink) for kink in sigma.kinks], axis=0)  # each unit's own kink
        left, right = (np.array(ends)[nearest] for ends in zip(*(_slopes(sigma, k) for k in sigma.kinks)))
        mid.append(np.where(none, (left + right) / 2, sigma.derivative(A)))
        half.append(np.where(none, np.abs(right - left) / 2, 0.0))
        near.append(none)
    if all(n is None for n in near):
        return None
    center = mlp.backward(p.arch, p.params, cache, p.y, p.reduction, input_gradient=False, slopes=mid)
    radius: dict[str, np.ndarray] = {}
    R = np.zeros_like(cache.Z[-1])  # radius of G_{i+1}; G_{L+1} = S − I_y does not depend on σ'
    for i in reversed(range(p.arch.depth)):
        c = mid[i] if mid[i] is not None else p.arch.activations[i].derivative(cache.A[i])
        r = half[i] if half[i] is not None else 0.0
        delta_r = np.abs(center.G[i + 1]) * r + R * (np.abs(c) + r)
        radius[f"W{i + 1}"] = np.abs(cache.Z[i]).T @ delta_r  # Eq. 15
        if p.params.b[i] is not None:
            radius[f"b{i + 1}"] = delta_r.sum(axis=0)
        R = delta_r @ np.abs(p.params.W[i]).T  # Eq. 14
    return KinkBounds(center, radius, int(sum(n.sum() for n in near if n is not None)))


def _slopes(sigma, kink: float) -> tuple[float, float]:
    """σ' just left and just right of one of σ's kinks: the ends of the valid choices there."""
    return (float(sigma.derivative(np.array([np.nextafter(kink, -np.inf)]))[0]),
            float(sigma.derivative(np.array([np.nextafter(kink, np.inf)]))[0]))
