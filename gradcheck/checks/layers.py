"""Layer functions with caches, Stanford CS231n style.

``affine_forward(x, w, b) -> (out, cache)``, ``affine_backward(dout, cache) -> (dx, dw, db)``,
``relu_forward``/``sigmoid_forward``/``tanh_forward(x) -> (out, cache)`` with
``*_backward(dout, cache) -> dx``, and ``softmax_loss(x, y) -> (loss, dx)``.

Each backward is checked as a vector-Jacobian product twice: against JAX, and
against finite differences of the same layer's own forward (so a forward and
backward that are consistent with each other but both wrong still fail the
first). Then the layers are composed into a two-layer network and its weight
gradients are checked against Eqs. 10 and 11 (bias form).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from gradcheck import adapters, diagnose, equations, finite_diff, problems
from gradcheck.checks.common import (
    DEFAULT_ACTIVATIONS, YOURS, judge_cases, layer_vjp, measure, mutation_records, precision_summary,
    softmax_loss_gradient, truth_name, unstable,
)
from gradcheck.precision import Precision, probe_arrays
from gradcheck.checks.result import CheckResult, settle
from gradcheck.compare import NONFINITE, Comparison, compare, failed
from gradcheck.witnesses import Problem
from reference_mlp import activations as act
from reference_mlp.mlp import Architecture
from reference_mlp.validation import InvalidArgument

REQUIRED = ("affine_forward", "affine_backward", "softmax_loss")
FD = "finite differences of your forward"
LAYER_EQUATIONS = {
    "dx": equations.Equation("14", "dx = dout Wᵀ  (Gᵢ = δ Wᵢᵀ)"),
    "dw": equations.Equation("15", "dw = xᵀ dout  (∇Wᵢ = Zᵢᵀ δ)"),
    "db": equations.Equation("15, bias", "db = 1ᵀ dout  (column sums over the batch)"),
}
# An activation layer's backward is the σ' half of Eq. 14: δ = G ∘ σ'(ZW), with x the pre-activation.
ACTIVATION_EQUATION = equations.Equation("14, σ' factor", "dx = σ'(x) ∘ dout  (δᵢ = Gᵢ₊₁ ∘ σ'(ZᵢWᵢ))")


def _equation(layer: str, name: str) -> equations.Equation | None:
    """The equation a layer's output ``name`` follows: the affine layer's, or the σ' factor for an activation."""
    return LAYER_EQUATIONS.get(name) if layer == "affine" or name != "dx" else ACTIVATION_EQUATION


def _get(layers: Any, name: str) -> Callable | None:
    fn = layers.get(name) if isinstance(layers, dict) else getattr(layers, name, None)
    return fn if callable(fn) else None


def _pair(out: Any, what: str) -> tuple[Any, Any] | str:
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return out[0], out[1]
    return f"{what} must return a pair (out, cache); it returned {type(out).__name__}"


def _round_trip(forward: Callable, backward: Callable, layer: str, inputs: tuple, names: tuple[str, ...],
                dout: np.ndarray) -> tuple[adapters.Call, adapters.Call | None, dict[str, np.ndarray] | str]:
    """Run ``forward(*inputs)`` then ``backward(dout, cache)``: both calls and the gradients (or why there are none)."""
    fwd_name, bwd_name = f"{layer}_forward", f"{layer}_backward"
    forward_call = adapters.call(forward, list(inputs), [f"{fwd_name} {n[1:]}" for n in names])
    pair = _pair(forward_call.output, fwd_name) if not forward_call.error else f"your {fwd_name} raised {forward_call.error}"
    if isinstance(pair, str):
        return forward_call, None, pair
    backward_call = adapters.call(backward, [dout, pair[1]], ["dout", "cache"])
    given = (adapters.as_gradients(backward_call.output, [n[1:] for n in names], what=bwd_name)
             if not backward_call.error else f"your {bwd_name} raised {backward_call.error}")
    return forward_call, backward_call, given if isinstance(given, str) else {f"d{k}": v for k, v in given.items()}


def _layer_records(
    layer: str, forward: Callable, backward: Callable, inputs: tuple[np.ndarray, ...], names: tuple[str, ...],
    dout: np.ndarray, context: str, seed: int, measured: dict[str, Precision],
) -> list[Comparison]:
    """Check one layer's backward against JAX and finite differences of its forward, at the precision it computes in."""
    fwd_name, bwd_name = f"{layer}_forward", f"{layer}_backward"
    truth = dict(zip(names, layer_vjp(layer, inputs, dout)))
    ctx = dict(problem=context, seed=seed)
    label = lambda n: f"{bwd_name} {n}"
    forward_call, backward_call, given = _round_trip(forward, backward, layer, inputs, names, dout)
    records = mutation_records(forward_call.mutated + tuple(
        m for m in (backward_call.mutated if backward_call else ()) if m.tensor.startswith("dout")), context, seed)
    if isinstance(given, str):
        return records + [failed(label(n), truth[n].shape, given, witnesses=(YOURS, truth_name()), equation=_equation(layer, n), **ctx)
                          for n in names]

    def gradients(*args: np.ndarray) -> list[np.ndarray] | None:
        found = _round_trip(forward, backward, layer, args[:-1], names, args[-1])[2]
        return None if isinstance(found, str) else [np.asarray(found[n]) for n in names]

    precision = measured[layer] = probe_arrays(gradients, (*inputs, dout), [n[1:] for n in names] + ["dout"])
    tolerance = precision.tolerance

    def own_forward(*args: np.ndarray) -> np.ndarray:
        result = forward(*args)
        return np.asarray(result[0] if isinstance(result, (tuple, list)) else result, dtype=np.float64)

    try:  # the differences step and round at the precision the forward computes in
        estimates = dict(zip(names, finite_diff.vjp(own_forward, inputs, dout, precision=precision.computes_in)))
    except Exception as exc:  # the user's forward misbehaving under perturbation
        estimates = {}
        records.append(failed(f"{fwd_name} out", dout.shape, f"finite differences of your {fwd_name} failed: "
                              f"{adapters.describe_exception(exc)}", witnesses=(FD, truth_name()), **ctx))
    judged = []
    for n in names:
        judged.append(compare(given[n], truth[n], tensor=label(n), witnesses=(YOURS, truth_name()), tolerance=tolerance,
                              equation=_equation(layer, n), **ctx))
        if n in estimates:
            e = estimates[n]
            judged.append(compare(given[n], e.values, tensor=label(n), witnesses=(YOURS, FD), uncertainty=e.error,
                                  tolerance=tolerance, checkable=e.checkable, not_checkable_reason=e.reason,
                                  equation=_equation(layer, n), **ctx))
    if any(r.failed for r in judged):
        found = diagnose.diagnose_layer(layer, inputs, dout, given, truth, narrow=precision.computes_in == np.float32)
        judged = [r if not r.failed else diagnose.with_diagnosis(r, found) for r in judged]
    return records + judged


def _softmax_records(fn: Callable, logits: np.ndarray, y: np.ndarray, context: str, seed: int,
                     measured: dict[str, Precision], stability: bool = False) -> list[Comparison]:
    loss, grad = softmax_loss_gradient(logits, y)
    ctx = dict(witnesses=(YOURS, truth_name()), problem=context, seed=seed)

    def outputs(x: np.ndarray, labels: np.ndarray) -> list[np.ndarray] | None:
        c = adapters.call(fn, [x, labels], ["x", "y"])
        pair = None if c.error else _pair(c.output, "softmax_loss")
        values = [] if pair is None or isinstance(pair, str) else [adapters.as_float_array(v) for v in pair]
        return values if len(values) == 2 and not any(isinstance(v, str) for v in values) else None

    if "softmax_loss" not in measured:
        measured["softmax_loss"] = probe_arrays(outputs, (logits, y), ("x", "y"))
    tolerance = measured["softmax_loss"].tolerance_at(float(np.max(np.abs(logits))))
    call = adapters.call(fn, [logits, y], ["x", "y"])
    pair = _pair(call.output, "softmax_loss") if not call.error else f"your softmax_loss raised {call.error}"
    if isinstance(pair, str):
        return [failed("softmax_loss dx", grad.shape, pair, equation=equations.LOSS_GRADIENT, **ctx)]
    value, dx = (adapters.as_float_array(v) for v in pair)
    if isinstance(value, str) or isinstance(dx, str):
        return [failed("softmax_loss dx", grad.shape, f"softmax_loss returned (loss, dx) that are not numbers: {value if isinstance(value, str) else dx}",
                       equation=equations.LOSS_GRADIENT, **ctx)]
    records = [compare(np.reshape(value, ()) if np.size(value) == 1 else value, np.array(loss), tensor="softmax_loss loss",
                       equation=equations.LOSS, tolerance=tolerance, **ctx),
               compare(dx, grad, tensor="softmax_loss dx", equation=equations.LOSS_GRADIENT, tolerance=tolerance, **ctx)]
    if any(r.failed for r in records):
        if not np.all(np.isfinite(dx)) or not np.all(np.isfinite(value)):
            found = diagnose.known("softmax_overflow", "your loss or dx is NaN or infinite on these logits")
        else:
            found = diagnose.diagnose_layer("softmax_loss", (logits, y), grad, {"dx": dx}, {"dx": grad})
        records = [r if not r.failed else diagnose.with_diagnosis(r, found) for r in records]
    if stability:
        records = unstable(records, f"your loss or dx is {NONFINITE} on these logits")
    return records + mutation_records(call.mutated, context, seed)


def _network(layers: Any, sigma: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], Any]:
    """The two-layer network composed from the user's layers: affine → σ → affine → softmax_loss."""
    affine_f, affine_b = _get(layers, "affine_forward"), _get(layers, "affine_backward")
    act_f, act_b = _get(layers, f"{sigma}_forward"), _get(layers, f"{sigma}_backward")
    loss_fn = _get(layers, "softmax_loss")

    def two_layer(X, y, W1, b1, W2, b2):
        hidden, cache1 = affine_f(X, W1, b1)
        active, cache_act = act_f(hidden)
        logits, cache2 = affine_f(active, W2, b2)
        _, dlogits = loss_fn(logits, y)
        dactive, dW2, db2 = affine_b(dlogits, cache2)
        dhidden = act_b(dactive, cache_act)
        _, dW1, db1 = affine_b(dhidden, cache1)
        return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    return two_layer


def check_layers(layers: Any, *, activations: Sequence[str] = DEFAULT_ACTIVATIONS, seed: int = 0,
                 require_stability: bool = False) -> CheckResult:
    """Check a module (or dict) of CS231n-style layer functions, each layer and then composed.

    Activations whose ``*_forward``/``*_backward`` pair is not defined are
    reported as unsupported. The handout's ``softmax_loss`` states no
    stability requirement, so NaN or infinity on logits near ±1000 is a
    warning unless ``require_stability``.
    """
    missing = [n for n in REQUIRED if _get(layers, n) is None]
    if missing:
        raise InvalidArgument(
            f"the layers must define {', '.join(REQUIRED)}; {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing from {getattr(layers, '__name__', type(layers).__name__)}."
        )
    rng = np.random.default_rng(seed)
    draw = lambda *shape: rng.standard_normal(shape).astype(np.float32).astype(np.float64)  # float32 values: see precision
    target = getattr(layers, "__name__", "layers")
    results: list[Comparison] = []
    measured: dict[str, Precision] = {}
    # The handout's x has shape (N, d₁, …, d_k), reshaped to (N, D): the rank and sizes come from the seed.
    sizes = np.random.default_rng((seed, 0xAFF1))
    N, M = int(sizes.integers(3, 8)), int(sizes.integers(3, 7))
    dims = ((6,), (2, 3), (3, 2), (2, 2, 2), (2, 1, 3))[int(sizes.integers(0, 5))]
    x, w, b = draw(N, *dims), draw(int(np.prod(dims)), M), draw(M)
    results += _layer_records("affine", _get(layers, "affine_forward"), _get(layers, "affine_backward"), (x, w, b),
                              ("dx", "dw", "db"), draw(N, M), f"x {'×'.join(map(str, x.shape))}, w {w.shape[0]}×{M}, b ({M},)",
                              seed, measured)
    supported, unsupported = [], []
    for name in activations:
        sigma = act.get(name)
        fwd, bwd = _get(layers, f"{sigma.name}_forward"), _get(layers, f"{sigma.name}_backward")
        if fwd is None or bwd is None:
            unsupported.append(f"{sigma.name}: {sigma.name}_forward/{sigma.name}_backward not defined")
            continue
        supported.append(sigma.name)
        x = draw(5, 4)
        x = np.where(np.abs(x) < problems.KINK_MARGIN, 0.5, x)  # clear of ReLU's kink
        results += _layer_records(sigma.name, fwd, bwd, (x,), ("dx",), draw(5, 4), "x 5×4", seed, measured)
    labels = rng.integers(0, 3, 5)
    for logits, context, probe in ((draw(5, 3), "x 5×3", False),
                                   (draw(5, 3) * problems.LARGE_LOGITS, "x 5×3, logits near ±1000", True)):
        results += _softmax_records(_get(layers, "softmax_loss"), logits, labels, context, seed, measured, stability=probe)
    for name in supported:
        cases = [c for c in problems.cases(lambda w: Architecture.build(w, hidden=name, bias=True), depth=2, seed=seed)
                 if c.name in ("non-square", "large logits")]
        network = _network(layers, name)

        def run(p: Problem) -> adapters.Call:
            (W1, W2), (b1, b2) = p.params.W, p.params.b
            return adapters.call(network, [p.X, p.y, W1, b1, W2, b2], ["X", "y", "W1", "b1", "W2", "b2"])

        read = lambda p, c: adapters.as_gradients(c.output, ("W1", "b1", "W2", "b2"), what="the network")
        measured[f"{name} network"] = measure(cases[0], run, ("W1", "b1", "W2", "b2"), read)
        results += judge_cases(f"composed {name} network", cases, run, ("W1", "b1", "W2", "b2"), read,
                               lambda n: equations.for_tensor(n, 2), precision=measured[f"{name} network"])
    return settle(target, "CS231n layers", results, seed, require_stability=require_stability,
                  unsupported=tuple(unsupported), precision=precision_summary(measured))
