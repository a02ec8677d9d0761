"""Any function with a hand-written backward: self-consistency by finite differences, no oracle needed."""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from gradcheck import adapters, finite_diff
from gradcheck.checks.common import YOURS, mutation_records
from gradcheck.checks.result import CheckResult
from gradcheck.compare import Comparison, compare, failed
from reference_mlp.validation import InvalidArgument, as_float_array, check_choice

FD = "finite differences of your forward"


def check_function(
    forward: Callable[..., np.ndarray],
    backward: Callable[..., object],
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    *,
    seed: int = 0,
    method: str = "richardson",
) -> CheckResult:
    """Check ``backward(dout, *inputs)`` against finite differences of ``forward(*inputs)``.

    ``backward`` must return ∂⟨dout, forward(*inputs)⟩/∂input for every input
    (a tuple in input order, a dict by input name, or one array for one
    input): the vector-Jacobian product a layer's backward pass computes. The
    upstream gradient ``dout`` is drawn from ``seed``.
    """
    if not callable(forward) or not callable(backward):
        raise InvalidArgument("forward and backward must both be functions.")
    check_choice("method", method, finite_diff.METHODS)
    named = dict(inputs) if isinstance(inputs, Mapping) else {f"x{i}": x for i, x in enumerate(inputs)}
    if not named:
        raise InvalidArgument("inputs must hold at least one array to differentiate with respect to.")
    named = {n: as_float_array(f"input {n}", x).astype(np.float64) for n, x in named.items()}
    target = getattr(backward, "__name__", "backward")
    ctx = dict(witnesses=(YOURS, FD), seed=seed, problem=", ".join(f"{n} {x.shape}" for n, x in named.items()))
    first = adapters.call(forward, list(named.values()), list(named))
    if first.error:
        raise InvalidArgument(f"forward raised on the inputs given: {first.error}")
    out = adapters.as_float_array(first.output)
    if isinstance(out, str):
        raise InvalidArgument(f"forward must return an array; its output {out}.")
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    estimates = dict(zip(named, finite_diff.vjp(forward, tuple(named.values()), dout, method=method)))
    call = adapters.call(backward, [dout, *named.values()], ["dout", *named])
    given = (adapters.as_gradients(call.output, list(named), what=target)
             if not call.error else f"your {target} raised {call.error}")
    results: list[Comparison] = []
    if isinstance(given, str):
        results += [failed(f"d{n}", x.shape, given, **ctx) for n, x in named.items()]
    else:
        for n in named:
            e = estimates[n]
            results.append(compare(given[n], e.values, tensor=f"d{n}", uncertainty=e.error, checkable=e.checkable,
                                   not_checkable_reason=e.reason, **ctx))
    results += mutation_records(first.mutated + call.mutated, ctx["problem"], seed)
    return CheckResult(target, f"forward/backward pair, {method} differences", tuple(results), seed,
                       advice="give inputs away from the kinks of your forward (where it is not differentiable)")
