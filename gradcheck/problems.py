"""The inputs a check feeds to user code: seeded, and each there to expose a kind of bug.

- non-square: m ≠ n ≠ d ≠ k, so a transposed or swapped gradient cannot have the right shape;
- square: every dimension equal, where a transpose keeps its shape and only its values betray it;
- uint8 labels missing a class: the course's label dtype, and a batch whose
  largest class is absent (a one-hot sized by ``y.max() + 1`` breaks here);
- large logits: ‖h‖ ≈ 1000, where exp(h) overflows unless softmax subtracts the row max.
  Courses differ on whether that is required (DLSys hw0 allows a direct
  softmax), so NaN or infinity here is a numerical-stability finding, judged
  only when stability is required; a finite wrong value is a gradient error.

Pre-activations are kept at least ``KINK_MARGIN`` away from ReLU's kink, so
that any subgradient choice at 0 is equally right.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from gradcheck.witnesses import Problem, make_problem
from reference_mlp.validation import InvalidArgument
from reference_mlp import mlp
from reference_mlp.mlp import Architecture, Params

KINK_MARGIN = 1e-3
LARGE_LOGITS = 1000.0  # exp overflows float64 beyond ~709
LARGE_LOGITS_F32 = 100.0  # and float32 beyond ~88; larger would cost float32 code all its digits


@dataclass(frozen=True)
class Case:
    """One generated problem, its name in reports and what it is there to catch."""

    name: str
    problem: Problem
    purpose: str
    seed: int | None = None  # the seed the check was run with: what replays this case
    stability: bool = False  # a probe of numerical stability: NaN or inf here is its own finding

    def describe(self) -> str:
        """``non-square (5-7-3 sigmoid, m=9, mean)`` for reports."""
        return f"{self.name} ({self.problem.describe()})"


def clear_of_kinks(problem: Problem) -> bool:
    """Every pre-activation farther than KINK_MARGIN from each kink of its activation."""
    cache = mlp.forward(problem.arch, problem.params, problem.X)
    return all(
        np.min(np.abs(a - k), initial=np.inf) > KINK_MARGIN
        for sigma, a in zip(problem.arch.activations, cache.A)
        for k in sigma.kinks
    )


def draw(arch: Architecture, *, m: int, seed: int, reduction: str = "mean", dtype=np.float64) -> Problem:
    """A problem from ``seed`` whose pre-activations stay clear of every kink (redrawn if needed)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgument(f"seed must be an integer ≥ 0; got {seed!r}.")
    try:
        known = np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.float64))
    except TypeError:
        known = False
    if not known:
        raise InvalidArgument(f"dtype must be float32 or float64 (the inputs user code is fed); got {dtype!r}.")
    for attempt in range(100):
        problem = make_problem(arch, m=m, reduction=reduction, seed=seed + 7919 * attempt)
        if clear_of_kinks(problem):
            break
    # Every input holds float32-representable values, so code that casts them to float32 loses
    # nothing, and a nudge below float32's resolution tells what precision it computes in.
    problem = _representable(problem, np.dtype(dtype))
    return replace(problem, seed=seed)


def _representable(problem: Problem, dtype: np.dtype) -> Problem:
    """The problem's X, W and b rounded to float32 values, stored as ``dtype``."""
    def rounded(a):
        return None if a is None else np.asarray(a).astype(np.float32).astype(dtype)

    params = Params(tuple(rounded(W) for W in problem.params.W), tuple(rounded(b) for b in problem.params.b))
    return replace(problem, X=rounded(problem.X), params=params)


def _missing_top_class(problem: Problem) -> Problem:
    k = problem.arch.widths[-1]
    y = problem.y.copy()
    y[y == k - 1] = 0  # the largest class never appears
    return replace(problem, y=y.astype(np.uint8))


def _large_logits(problem: Problem) -> Problem:
    W = list(problem.params.W)
    h = mlp.forward(problem.arch, problem.params, problem.X).Z[-1]
    target = LARGE_LOGITS if W[-1].dtype == np.float64 else LARGE_LOGITS_F32
    W[-1] = W[-1] * (target / max(float(np.max(h)), 1e-3))  # the largest logit becomes the target
    return _representable(replace(problem, params=Params(tuple(W), problem.params.b)), W[-1].dtype)


@dataclass(frozen=True)
class Shapes:
    """The sizes of one case: widths n₁ … n_{L+1} and batch size m."""

    widths: tuple[int, ...]
    m: int


def shapes(seed: int, depth: int | None = None) -> dict[str, Shapes]:
    """The shapes of the standard cases, drawn from ``seed`` so that a hidden seed hides them too.

    Non-square cases have every width and m different (3 to 13, small enough
    to stay fast), so a transposed or swapped gradient cannot have the right
    shape; the square case has them all equal. Without ``depth`` the number of
    layers is drawn too: the non-square case is deep (4 or 5 layers, where a
    bug in a middle layer shows), the square one shallow (1 to 3).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgument(f"seed must be an integer ≥ 0; got {seed!r}.")
    rng = np.random.default_rng((seed, 0x5A9E5))
    depths = {"deep": (4, 5), "shallow": (1, 3), "any": (1, 5), "mid": (2, 3)}

    def layers(kind: str) -> int:
        low, high = depths[kind]
        return depth if depth is not None else int(rng.integers(low, high + 1))

    def rectangular(kind: str) -> Shapes:
        L = layers(kind)
        widths = tuple(int(w) for w in rng.choice(np.arange(3, 10), size=L + 1, replace=False))
        m = int(rng.choice([v for v in range(4, 14) if v not in widths]))
        return Shapes(widths, m)

    square = int(rng.integers(3, 7))
    return {"non-square": rectangular("deep"), "square": Shapes((square,) * (layers("shallow") + 1), square),
            "uint8 labels missing a class": rectangular("mid"), "large logits": rectangular("any")}


def cases(
    build: "callable[[Sequence[int]], Architecture]",
    *,
    depth: int | None = 2,
    seed: int = 0,
    reduction: str = "mean",
    dtype=np.float64,
) -> list[Case]:
    """The standard cases for networks made by ``build(widths)``, with ``depth`` layers or (None) a drawn number.

    Every shape comes from ``seed`` (:func:`shapes`).
    """
    if depth is not None and not (isinstance(depth, (int, np.integer)) and 1 <= depth <= 5):
        raise InvalidArgument(f"depth must be between 1 and 5 for the generated cases; got {depth}.")
    size = shapes(seed, depth)

    def problem(name: str, offset: int) -> Problem:
        return draw(build(size[name].widths), m=size[name].m, seed=seed + offset, reduction=reduction, dtype=dtype)

    return [
        Case("non-square", problem("non-square", 0), "m ≠ n ≠ d ≠ k, so a transposed gradient has the wrong shape", seed),
        Case("square", problem("square", 1), "every dimension equal, so only values reveal a transpose", seed),
        Case("uint8 labels missing a class", _missing_top_class(problem("uint8 labels missing a class", 2)),
             "labels as uint8 and a batch without the largest class", seed),
        Case("large logits", _large_logits(problem("large logits", 3)),
             f"logits near {LARGE_LOGITS:g}, where exp overflows unless softmax subtracts the row max", seed,
             stability=True),
    ]
