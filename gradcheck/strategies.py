"""Hypothesis strategies for MLP architectures and gradient-checking problems.

    from hypothesis import given
    from gradcheck.strategies import architectures, problems
    from gradcheck.testing import assert_two_layer_grads

    @given(problems(architectures(min_depth=2, max_depth=2, activations=["sigmoid", "tanh"])))
    def test_two_layer_grads(problem):
        assert_two_layer_grads(two_layer_grads, problem=problem)

Knobs come in ``min_``/``max_`` pairs, accept plain values or strategies
where that makes sense, and are validated when the strategy is built. A
failing test shrinks towards the smallest network, batch and seed.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from gradcheck import problems as gc_problems
from gradcheck.witnesses import Problem
from reference_mlp import activations as act
from reference_mlp.mlp import Architecture
from reference_mlp.validation import InvalidArgument

__all__ = ["architectures", "problems"]

KINKS = ("avoid", "touch")


def _int_range(name: str, low: Any, high: Any, floor: int) -> tuple[int, int]:
    for label, value in ((f"min_{name}", low), (f"max_{name}", high)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < floor:
            raise InvalidArgument(f"{label} must be an integer ≥ {floor}; got {value!r}. Consider {label}={floor}.")
    if low > high:
        raise InvalidArgument(f"min_{name}={low} is greater than max_{name}={high}; no value fits. "
                              f"Consider max_{name}={low}.")
    return int(low), int(high)


def _strategy(value: Any, valid: bool, message: str) -> SearchStrategy:
    """A strategy from ``value``: strategies pass through, valid plain values are held fixed."""
    if isinstance(value, SearchStrategy):
        return value
    if not valid:
        raise InvalidArgument(message)
    return st.just(value)


def architectures(
    *,
    min_depth: int = 1,
    max_depth: int = 3,
    min_width: int = 1,
    max_width: int = 6,
    min_classes: int = 2,
    max_classes: int = 5,
    activations: Sequence[str] | SearchStrategy | None = None,
    bias: bool | SearchStrategy = False,
) -> SearchStrategy[Architecture]:
    """MLP architectures: L in [min_depth, max_depth] layers, hidden widths and input width in
    [min_width, max_width], k in [min_classes, max_classes] classes, one hidden activation drawn from
    ``activations`` (default: every known one) and ``bias`` (a flag or a strategy of flags).
    """
    depth = _int_range("depth", min_depth, max_depth, 1)
    width = _int_range("width", min_width, max_width, 1)
    classes = _int_range("classes", min_classes, max_classes, 1)
    if isinstance(activations, SearchStrategy):
        activation_st = activations
    else:
        names = list(act.NAMES if activations is None else activations)
        if not names or isinstance(activations, str):
            raise InvalidArgument(f"activations must be a non-empty list of names; got {activations!r}. "
                                  f"Consider activations=['relu', 'tanh'].")
        activation_st = st.sampled_from([act.get(n).label for n in names])  # unknown names raise here
    bias_st = _strategy(bias, isinstance(bias, bool), f"bias must be True, False or a strategy of booleans; got {bias!r}.")

    @st.composite
    def build(draw: Any) -> Architecture:
        L = draw(st.integers(*depth))
        widths = [draw(st.integers(*width)) for _ in range(L)] + [draw(st.integers(*classes))]
        return Architecture.build(widths, hidden=draw(activation_st), bias=draw(bias_st))

    return build()


def problems(
    architecture: Architecture | SearchStrategy | None = None,
    *,
    min_batch: int = 1,
    max_batch: int = 8,
    reduction: str | SearchStrategy = "mean",
    dtype: Any = np.float64,
    labels: Any = np.int64,
    kinks: str = "avoid",
) -> SearchStrategy[Problem]:
    """Problems (inputs X, labels y, weights) for an architecture or a strategy of them (default:
    :func:`architectures`), with a batch of m in [min_batch, max_batch] rows.

    ``kinks="avoid"`` keeps every ReLU pre-activation at least 1e-3 from its
    kink; ``"touch"`` puts the first one within rounding of it, where finite
    differences break and only a kink-aware check stays right (architectures
    whose first activation has no kink are skipped). ``dtype`` is the
    float type of X and the weights (float32 or float64), ``labels`` the
    integer type of y (courses use uint8).
    """
    batch = _int_range("batch", min_batch, max_batch, 1)
    arch_st = architectures() if architecture is None else _strategy(
        architecture, isinstance(architecture, Architecture),
        f"architecture must be an Architecture or a strategy of them; got {type(architecture).__name__}. "
        "Consider gradcheck.strategies.architectures().")
    reduction_st = _strategy(reduction, reduction in ("mean", "sum"),
                             f"reduction must be 'mean' or 'sum'; got {reduction!r}.")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise InvalidArgument(f"dtype must be float32 or float64; got {np.dtype(dtype)}. Consider dtype=np.float64.")
    if np.dtype(labels).kind not in "iu":
        raise InvalidArgument(f"labels must be an integer dtype such as np.uint8; got {np.dtype(labels)}.")
    if kinks not in KINKS:
        raise InvalidArgument(f"kinks must be 'avoid' or 'touch'; got {kinks!r}.")

    @st.composite
    def build(draw: Any) -> Problem:
        arch = draw(arch_st)
        if kinks == "touch":
            assume(bool(arch.activations[0].kinks))  # only a kinked first activation can be touched
        m = draw(st.integers(*batch))
        seed = draw(st.integers(0, 2**16))
        problem = gc_problems.draw(arch, m=m, seed=seed, reduction=draw(reduction_st), dtype=dtype)
        if kinks == "touch":
            problem = _onto_kink(problem)
        else:  # a net of width-1 layers without biases may have no clear draw: let Hypothesis find another
            assume(gc_problems.clear_of_kinks(problem))
        return Problem(problem.arch, problem.params, problem.X,
                       np.asarray(problem.y).astype(labels), problem.reduction, problem.seed)

    return build()


def _onto_kink(problem: Problem) -> Problem:
    """Move X[0, -1] so that the first pre-activation (X W₁ + b₁)[0, 0] sits within rounding of the kink."""
    X, W1, b1 = problem.X.copy(), problem.params.W[0], problem.params.b[0]
    if W1[-1, 0] == 0:
        return problem
    kink = problem.arch.activations[0].kinks[0]
    offset = 0.0 if b1 is None else b1[0]
    X[0, -1] -= (X[0] @ W1[:, 0] + offset - kink) / W1[-1, 0]
    return Problem(problem.arch, problem.params, X, problem.y, problem.reduction, problem.seed)
