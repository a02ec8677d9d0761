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

import copy
import inspect
import re
import zlib
from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from gradcheck import adapters, diagnose, equations, finite_diff, layer_oracle, problems
from gradcheck.checks import cs231n
from gradcheck.checks.classifiers import ORACLE
from gradcheck.checks.common import (
    DEFAULT_ACTIVATIONS, YOURS, advice_for, differences, extension_missing, fd_records, handout_shape, judge_cases,
    layer_vjp, measure, mutation_records, precision_summary,
    not_run, softmax_loss_gradient, truth_name, unstable,
)
from gradcheck.precision import Precision, of_inputs, probe_arrays
from gradcheck.checks.result import RERUN, CheckResult, settle
from gradcheck.compare import NONFINITE, Comparison, Tolerance, compare, failed
from gradcheck.witnesses import Problem
from reference_mlp import activations as act
from reference_mlp.mlp import Architecture
from reference_mlp.validation import InvalidArgument

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
    backward_call = adapters.call(backward, [dout, pair[1]], [f"{bwd_name} dout", f"{bwd_name} cache"])
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
    # neither the inputs nor the cache may change: the handout's notebook runs two backwards on one cache
    records = mutation_records(forward_call.mutated + (backward_call.mutated if backward_call else ()), context, seed)
    if backward_call is None:  # the forward gave nothing to go back through
        return records + [failed(f"{fwd_name} out", dout.shape, given, witnesses=(YOURS, truth_name()), **ctx)] + [
            not_run(label(n), truth[n].shape, f"{fwd_name} gave no output to go back through", ctx) for n in names]
    if truth_name() == "JAX":  # the forward by the witness the backward is judged by
        from gradcheck.oracle import _jax_activation

        expected = layer_oracle.forward(layer_oracle.affine if layer == "affine" else _jax_activation(layer), inputs, {})
    elif layer == "affine":  # Eq. 12's affine part, x used as (N, D)
        expected = inputs[0].reshape(len(inputs[0]), -1) @ inputs[1] + inputs[2]
    else:
        expected = act.get(layer)(inputs[0])
    out = adapters.as_float_array(_pair(forward_call.output, fwd_name)[0])

    def forward_record(tolerance: Tolerance | None) -> Comparison:
        if isinstance(out, str):
            return failed(f"{fwd_name} out", expected.shape, f"{fwd_name}'s out {out}", witnesses=(YOURS, truth_name()), **ctx)
        return compare(out, expected, tensor=f"{fwd_name} out", witnesses=(YOURS, truth_name()), tolerance=tolerance, **ctx)

    if isinstance(given, str):
        return records + [forward_record(None)] + [failed(label(n), truth[n].shape, given, witnesses=(YOURS, truth_name()),
                                                    equation=_equation(layer, n), **ctx) for n in names]

    def gradients(*args: np.ndarray) -> list[np.ndarray] | None:
        found = _round_trip(forward, backward, layer, args[:-1], names, args[-1])[2]
        return None if isinstance(found, str) else [np.asarray(found[n]) for n in names]

    precision = measured[layer] = probe_arrays(gradients, (*inputs, dout), [n[1:] for n in names] + ["dout"])
    tolerance = precision.tolerance

    def own_forward(*args: np.ndarray) -> np.ndarray:
        result = forward(*args)
        return np.asarray(result[0] if isinstance(result, (tuple, list)) else result, dtype=np.float64)

    records.append(forward_record(tolerance))
    try:  # the differences step and round at the precision the forward computes in
        # a wrong forward's differences say nothing about the backward: the oracle alone judges it then
        estimates = ({} if records[-1].failed else
                     dict(zip(names, finite_diff.vjp(own_forward, inputs, dout, precision=precision.computes_in))))
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
    call = adapters.call(fn, [logits, y], ["softmax_loss x", "softmax_loss y"])  # a change to x is softmax_loss's
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


def covers(names: Sequence[str]) -> set[str]:
    """The functions of ``names`` that :func:`check_layers` runs (a backward only beside its forward)."""
    names = set(names)
    pairs = [(f"{a}_forward", (f"{a}_backward",)) for a in ("affine", *(act.get(n).name for n in DEFAULT_ACTIVATIONS))]
    pairs += [("dropout_forward", ("dropout_backward",))] + [(layer.forward, layer.backwards) for layer in cs231n.LAYERS]
    run = {f for forward, backwards in pairs if forward in names for f in (forward, *backwards) if f in names}
    return run | (names & {"softmax_loss", "svm_loss", "temporal_softmax_loss"})


def present(module: Any) -> bool:
    """Whether ``module`` defines a CS231n layer gradcheck checks (see :func:`covers`).

    ``softmax_loss`` alone is no evidence: DLSys hw0 has one too, ``softmax_loss(Z, y) -> loss``.
    """
    names = list(module) if isinstance(module, dict) else [n for n in dir(module) if _get(module, n)]
    return bool(covers(names) - {"softmax_loss"})


def check_layers(layers: Any, *, activations: Sequence[str] | None = None, seed: int = 0,
                 require_stability: bool = False) -> CheckResult:
    """Check a module (or dict) of CS231n layer functions: every pair it defines, then the layers composed.

    Each ``*_forward`` is compared with an independent JAX oracle and each
    ``*_backward`` with the oracle's vector-Jacobian product and with finite
    differences of the same module's forward (affine, ReLU, sigmoid, tanh,
    batch/layer/spatial normalization, dropout, convolution, max pooling, the
    layer_utils sandwiches), ``softmax_loss`` and ``svm_loss`` against the
    oracle's loss and gradient. With affine, an activation and softmax_loss,
    the two-layer network they compose is checked against Eqs. 10 and 11.
    ``activations`` names the σ layers required (those missing are reported
    as unsupported); by default, each of relu, sigmoid and tanh defined.
    The handout's ``softmax_loss`` states no stability requirement, so NaN or
    infinity on logits near ±1000 is a warning unless ``require_stability``.
    """
    from gradcheck.coverage import is_stub

    names = list(layers) if isinstance(layers, dict) else [n for n in dir(layers) if _get(layers, n)]
    run = covers([n for n in names if not is_stub(_get(layers, n))])  # the handout's stubs wait, listed as not checked
    if not covers(names):
        raise InvalidArgument(
            f"{getattr(layers, '__name__', type(layers).__name__)} defines no CS231n layer gradcheck knows: define "
            f"affine_forward/affine_backward, batchnorm_forward/batchnorm_backward, conv_forward_naive/"
            f"conv_backward_naive, … with the handout's names."
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
    dout = draw(N, M)
    if "affine_backward" in run:
        results += _layer_records("affine", _get(layers, "affine_forward"), _get(layers, "affine_backward"), (x, w, b),
                                  ("dx", "dw", "db"), dout, f"x {'×'.join(map(str, x.shape))}, w {w.shape[0]}×{M}, b ({M},)",
                                  seed, measured)
    supported, unsupported = [], []
    if activations is None:  # a handout asks for the σ it asks for: CS231n's for ReLU only
        activations = [n for n in DEFAULT_ACTIVATIONS if f"{act.get(n).name}_backward" in run]
    for name in activations:
        sigma = act.get(name)
        if f"{sigma.name}_backward" not in run:
            unsupported.append(f"{sigma.name}: {sigma.name}_forward/{sigma.name}_backward not defined")
            continue
        supported.append(sigma.name)
        x = draw(5, 4)
        x = np.where(np.abs(x) < problems.KINK_MARGIN, 0.5, x)  # clear of ReLU's kink
        results += _layer_records(sigma.name, _get(layers, f"{sigma.name}_forward"), _get(layers, f"{sigma.name}_backward"),
                                  (x,), ("dx",), draw(5, 4), "x 5×4", seed, measured)
    labels = rng.integers(0, 3, 5)
    if "softmax_loss" in run:
        for logits, context, probe in ((draw(5, 3), "x 5×3", False),
                                       (draw(5, 3) * problems.LARGE_LOGITS, "x 5×3, logits near ±1000", True)):
            results += _softmax_records(_get(layers, "softmax_loss"), logits, labels, context, seed, measured, stability=probe)
    if "svm_loss" in run:
        results += _svm_records(_get(layers, "svm_loss"), seed, measured)
    if "temporal_softmax_loss" in run:
        results += _temporal_softmax_records(_get(layers, "temporal_softmax_loss"), seed, measured)
    results += pair_records(layers, seed, measured, run)
    if "dropout_forward" in run:
        results += _dropout_records(layers, seed, measured, "dropout_backward" in run)
    for name in supported if {"affine_backward", "softmax_loss"} <= run else ():
        cases = [c for c in problems.cases(lambda w: Architecture.build(w, hidden=name, bias=True), depth=2, seed=seed)
                 if c.name in ("non-square", "large logits")]
        network = _network(layers, name)

        def run_network(p: Problem) -> adapters.Call:
            (W1, W2), (b1, b2) = p.params.W, p.params.b
            return adapters.call(network, [p.X, p.y, W1, b1, W2, b2], ["X", "y", "W1", "b1", "W2", "b2"])

        read = lambda p, c: adapters.as_gradients(c.output, ("W1", "b1", "W2", "b2"), what="the network")
        shown = {n: f"{name}_network {n}" for n in ("W1", "b1", "W2", "b2")}
        measured[f"{name} network"] = measure(cases[0], run_network, ("W1", "b1", "W2", "b2"), read)
        results += judge_cases(f"composed {name} network", cases, run_network, ("W1", "b1", "W2", "b2"), read,
                               lambda n: equations.for_tensor(n, 2), precision=measured[f"{name} network"], shown=shown)
    return settle(target, "CS231n layers", results, seed, require_stability=require_stability,
                  unsupported=tuple(unsupported), precision=precision_summary(measured), advice=advice_for(results, RERUN))


# ---------------------------------------------------------------------------
# Assignment 2's other layers (gradcheck.checks.cs231n): forward against the oracle, backward as a VJP

PY2_DIVISION = ("'float' object cannot be interpreted as an integer", "slice indices must be integers",
                "Cannot cast array data from dtype('float64') to dtype('int64')")  # np.take with float indices


def _raised(what: str, error: str) -> str:
    """Why a call failed, with the Python 3 hint when a size or slice came out a float."""
    hint = (" (in Python 3, / always gives a float: compute sizes with //, e.g. H_out = 1 + (H + 2 * pad - HH) // stride)"
            if any(p in error for p in PY2_DIVISION) else "")
    return f"your {what} raised {error}{hint}"


def _output(result: Any, what: str, count: int = 1) -> tuple[Any, Any] | str:
    """(out as floats, cache) from a forward's return value, or why not; ``count`` > 1: (a tuple of outs, cache)."""
    if count == 1:
        pair = _pair(result, what)
        if isinstance(pair, str):
            return pair
        out = adapters.as_float_array(pair[0])
        return f"{what}'s out {out}" if isinstance(out, str) else (out, pair[1])
    if not isinstance(result, (tuple, list)) or len(result) != count + 1:
        return f"{what} must return {count} outputs and the cache; it returned {type(result).__name__}" + (
            f" of {len(result)}" if isinstance(result, (tuple, list)) else "")
    outs = tuple(adapters.as_float_array(o) for o in result[:count])
    bad = next((o for o in outs if isinstance(o, str)), None)
    return f"{what}'s outputs: {bad}" if bad else (outs, result[count])


def _own_forward(forward: Callable, extra: tuple, before: tuple = (), count: int = 1) -> Callable[..., np.ndarray]:
    """The student's forward as a function of the differentiable inputs, settings copied afresh each call.

    Several outputs come back as one flat vector, so that ⟨dout, out⟩ is one sum over all of them.
    """
    def run(*arrays: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = forward(*copy.deepcopy(before), *arrays, *copy.deepcopy(extra))
        if count == 1:
            return np.asarray(out[0] if isinstance(out, (tuple, list)) else out, dtype=np.float64)
        return np.concatenate([np.asarray(o, dtype=np.float64).ravel() for o in out[:count]])
    return run


def _differences(own: Callable[..., np.ndarray], arrays: tuple[np.ndarray, ...], names: tuple[str, ...],
                 dout: np.ndarray, rng: np.random.Generator, precision: Precision) -> dict[str, Any]:
    """Finite differences of ⟨dout, your forward⟩: per entry for small tensors, along two directions for large.

    Per input: a :class:`finite_diff.Estimate`, a list of (v, :class:`finite_diff.Directional`), or the error.
    """
    found: dict[str, Any] = {}
    try:
        # ⟨dout, out⟩ rounds on the scale of Σ|dout·out|, not of the (cancelling) sum: offset by that scale,
        # a constant, so that the differences' rounding estimate (ε·|φ|/h) sees it.
        offset = float(np.sum(np.abs(own(*arrays) * dout)))
    except Exception as exc:
        return {name: adapters.describe_exception(exc) for name in names}
    for i, name in enumerate(names):
        def phi(x: np.ndarray, i: int = i) -> float:
            out = own(*arrays[:i], x, *arrays[i + 1:])
            if out.shape != dout.shape:
                raise InvalidArgument(f"your forward's out has shape {out.shape}, not {dout.shape}")
            return float(np.sum(out * dout)) + offset
        try:
            found[name] = differences(phi, arrays[i], rng, precision.computes_in)
        except Exception as exc:  # the student's forward misbehaving under perturbation
            found[name] = adapters.describe_exception(exc)
    return found


def _groupnorm_shape(forward: Callable, case: cs231n.Case) -> cs231n.Case:
    """gamma and beta as the handout's notebook passes them, (1, C, 1, 1), unless the forward cannot take that and
    takes (C,). Docstrings disagree between years (2019's and 2020's say (C,)); the notebook's numeric gradient
    check, which the student's code passes, always used (1, C, 1, 1)."""
    x, gamma, beta = case.arrays
    c = x.shape[1]
    wide = replace(case, arrays=(x, gamma.reshape(1, c, 1, 1), beta.reshape(1, c, 1, 1)),
                   context=case.context.replace(f"gamma ({c},)", f"gamma (1, {c}, 1, 1)"))

    def takes(option: cs231n.Case) -> bool:
        call = adapters.call(forward, [*option.before, *option.arrays, *option.extra],
                             [f"argument {i + 1}" for i in range(len(option.before) + len(option.arrays) + len(option.extra))])
        out = None if call.error else _output(call.output, "forward")
        return out is not None and not isinstance(out, str) and np.shape(out[0]) == x.shape

    if takes(wide) or not takes(case):
        return wide
    return replace(case, context=f"{case.context} (your forward takes gamma as (C,), not the notebook's (1, C, 1, 1))")


def _pair_records(layer: cs231n.Layer, module: Any, case: cs231n.Case, rng: np.random.Generator, seed: int,
                  measured: dict[str, Precision], run: set[str]) -> tuple[list[Comparison], list[tuple]]:
    """One case of one layer: its forward against the oracle, each backward against JAX and your forward.

    Returns the records and, for the backward records that failed, what their diagnosis needs.
    """
    forward = _get(module, layer.forward)
    if layer.name == "spatial_groupnorm":
        case = _groupnorm_shape(forward, case)
    ctx = dict(problem=case.context, seed=seed)
    names, outputs, count = layer.inputs, layer.outputs, len(layer.outputs)
    expected = layer_oracle.forward(layer.oracle, case.arrays, case.settings)
    expected = expected if count > 1 else (expected,)
    arg_names = ([f"{layer.forward} argument {i + 1}" for i in range(len(case.before))] + [f"{layer.forward} {n}" for n in names]
                 + [f"{layer.forward} setting {i + 1}" for i in range(len(case.extra))])
    args = lambda arrays: [*case.before, *arrays, *case.extra]
    call = adapters.call(forward, args(case.arrays), arg_names)
    got = _output(call.output, layer.forward, count) if not call.error else _raised(layer.forward, call.error)
    records = mutation_records(call.mutated, case.context, seed)
    douts = tuple(cs231n.f32(rng.standard_normal(e.shape)) for e in expected)
    dout = douts[0] if count == 1 else douts
    truth = dict(zip(names, layer_oracle.vjp(layer.oracle, case.arrays, case.settings, dout)))
    backwards = [(b, _get(module, b)) for b in layer.backwards if b in run]
    if isinstance(got, str):
        return records + [failed(f"{layer.forward} {outputs[0]}", expected[0].shape, got, witnesses=(YOURS, ORACLE), **ctx)] + [
            not_run(f"{b} d{n}", truth[n].shape, f"{layer.forward} gave no output to go back through", ctx)
            for b, _ in backwards for n in names], []
    outs, cache = got
    outs = outs if count > 1 else (outs,)

    def gradients(*values: np.ndarray) -> list[np.ndarray] | None:
        arrays, cotangents = values[:len(names)], values[len(names):]
        result = adapters.call(forward, args(arrays), arg_names)
        found = None if result.error else _output(result.output, layer.forward, count)
        if found is None or isinstance(found, str):
            return None
        made = list(found[0]) if count > 1 else [found[0]]
        if not backwards:
            return made
        back = adapters.call(backwards[0][1], [*cotangents, found[1]], [*(f"d{o}" for o in outputs), "cache"])
        grads = None if back.error else adapters.as_gradients(back.output, names, what=backwards[0][0])
        return None if not isinstance(grads, dict) else made + [grads[n] for n in names]

    if layer.name not in measured:
        floats = [i for i, a in enumerate(case.arrays) if np.asarray(a).dtype.kind == "f"]
        measured[layer.name] = probe_arrays(gradients, (*case.arrays, *douts), [*names, *(f"d{o}" for o in outputs)]) \
            if floats else of_inputs(np.float64)
    precision = measured[layer.name]
    tolerance = precision.tolerance
    forward_records = [compare(o, e, tensor=f"{layer.forward} {label}", witnesses=(YOURS, ORACLE), tolerance=tolerance, **ctx)
                       for o, e, label in zip(outs, expected, outputs)]
    records += forward_records
    if layer.statistics is not None:
        records += _statistics_records(layer, forward, case, call, tolerance, ctx)
    # a wrong forward's differences say nothing about the backward: the oracle alone judges it then
    flat = np.concatenate([d.ravel() for d in douts]) if count > 1 else douts[0]
    own = _own_forward(forward, case.extra, case.before, count)
    estimates = (_differences(own, case.arrays, names, flat, rng, precision)
                 if backwards and not any(r.failed for r in forward_records) else {n: None for n in names})
    pending = []
    for name, backward in backwards:
        back = adapters.call(backward, [*douts, cache], [*(f"{name} d{o}" for o in outputs), f"{name} cache"])
        records += mutation_records(back.mutated, case.context, seed)  # dout and the cache must come back unchanged
        given = (adapters.as_gradients(back.output, names, what=name) if not back.error else _raised(name, back.error))
        sliced = (layer.name == "conv" and case.settings["pad"] == 0 and "pad:-pad" in (back.error or "")
                  and diagnose.known("conv_pad_zero_slice", "your code raised where it slices [pad:-pad], with pad = 0"))
        if extension_missing(back.error):
            records += [not_run(f"{name} d{n}", truth[n].shape, f"your {name} needs a compiled extension it could not "
                                f"import ({back.error})", ctx, ORACLE) for n in names]
            continue
        if isinstance(given, str):
            records += [diagnose.with_diagnosis(failed(f"{name} d{n}", truth[n].shape, given, witnesses=(YOURS, ORACLE),
                                                       equation=layer.equation, **ctx), sliced or None) for n in names]
            continue
        judged = []
        for n in names:
            if n in ("gamma", "beta"):
                given[n], shaped = handout_shape(given[n], truth[n], f"d{n}")
                ctx = dict(ctx, problem=case.context + shaped) if shaped else ctx
            # A bias before a normalization has gradient 0, the mean the normalization removes: both sides are
            # then rounding, on the scale of the sums that make the weight's gradient (N terms of |da|, as dw).
            zero = (np.asarray(tolerance.rtol * np.max(np.abs(truth[layer.zero[n]])))
                    if n in layer.zero and np.ndim(given[n]) == np.ndim(truth[n]) else None)
            judged.append(compare(given[n], truth[n], tensor=f"{name} d{n}", witnesses=(YOURS, ORACLE), uncertainty=zero,
                                  tolerance=tolerance, equation=layer.equation, **ctx))
            judged += fd_records(f"{name} d{n}", given[n], estimates[n], tolerance, ctx, layer.equation)
        records += judged
        pending.append((name, case, dout, {f"d{n}": given[n] for n in names}, {f"d{n}": truth[n] for n in names},
                        any(r.failed for r in judged), len(records) - len(judged), len(records)))
    return records, pending


def _statistics_records(layer: cs231n.Layer, forward: Callable, case: cs231n.Case, call: adapters.Call,
                        tolerance: Tolerance, ctx: dict) -> list[Comparison]:
    """A train-mode forward's running mean and variance, and the test-mode forward that uses them."""
    x, gamma, beta = case.arrays
    (bn_param,) = case.extra
    after = call.inputs_after[len(case.arrays)]
    axes = layer.statistics
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    m, r_mean, r_var = bn_param["momentum"], bn_param["running_mean"], bn_param["running_var"]
    records = []
    equation = equations.Equation("running average", "running = momentum·running + (1 − momentum)·batch statistic")
    for key, old, batch in (("running_mean", r_mean, mean), ("running_var", r_var, var)):
        label = f"{layer.forward} bn_param[{key!r}]"
        value = after.get(key) if isinstance(after, dict) else None
        if value is None:
            records.append(failed(label, old.shape, f"train mode left no {key} in bn_param (update it in place, as the "
                                  "handout's bn_param['running_mean'] = running_mean does)", witnesses=(YOURS, ORACLE), **ctx))
            continue
        value, shaped = adapters.as_float_array(value), ""
        if not isinstance(value, str):
            value, shaped = handout_shape(value, old, key)
        record = (failed(label, old.shape, f"bn_param[{key!r}] {value}", witnesses=(YOURS, ORACLE), **ctx)
                  if isinstance(value, str) else
                  compare(value, m * old + (1 - m) * batch, tensor=label, witnesses=(YOURS, ORACLE), tolerance=tolerance,
                          equation=equation, **{**ctx, "problem": ctx["problem"] + shaped}))
        if record.failed and not isinstance(value, str) and diagnose.fits({key: value}, {key: (1 - m) * old + m * batch}):
            record = diagnose.with_diagnosis(record, diagnose.known(
                "running_average_swapped", f"your {key} equals (1 − momentum)·old + momentum·batch"))
        records.append(record)
    view = [1] * x.ndim
    view[1 if axes == (0, 2, 3) else -1] = -1
    test_param = {**bn_param, "mode": "test"}
    test = adapters.call(forward, [x, gamma, beta, test_param], ["x", "gamma", "beta", "bn_param"])
    expected = layer_oracle.forward(layer_oracle.batchnorm_test, (x, gamma.reshape(view), beta.reshape(view)),
                                    {"mean": r_mean.reshape(view), "var": r_var.reshape(view), "eps": bn_param["eps"]})
    got = _output(test.output, layer.forward) if not test.error else _raised(f"{layer.forward} in test mode", test.error)
    label, test_ctx = f"{layer.forward} out (test mode)", {**ctx, "problem": ctx["problem"].replace("train mode", "test mode")}
    equation = equations.Equation("test mode", "out = γ·(x − running_mean)/√(running_var + ε) + β")
    if isinstance(got, str):
        return records + [failed(label, expected.shape, got, witnesses=(YOURS, ORACLE), equation=equation, **test_ctx)]
    record = compare(got[0], expected, tensor=label, witnesses=(YOURS, ORACLE), tolerance=tolerance, equation=equation,
                     **test_ctx)
    outside = (x - r_mean.reshape(view)) / (np.sqrt(r_var.reshape(view)) + bn_param["eps"]) * gamma.reshape(view) + beta.reshape(view)
    if record.failed and diagnose.fits({"out": got[0]}, {"out": outside}):
        record = diagnose.with_diagnosis(record, diagnose.known(
            "batchnorm_eps_outside_sqrt", "recomputing test mode with √running_var + ε reproduces your out"))
    return records + [record] + mutation_records(test.mutated, test_ctx["problem"], ctx["seed"])


def _diagnosed(layer: cs231n.Layer, records: list[Comparison], pending: list[tuple], narrow: bool) -> list[Comparison]:
    """Name the mistake behind each failing backward, from all of that backward's cases together."""
    for backward in layer.backwards:
        mine = [p for p in pending if p[0] == backward]
        if not any(p[5] for p in mine):
            continue  # nothing to explain
        trials = []
        for _, case, dout, given, truth, failing, *_ in mine:
            hypotheses = [(bug, lambda bug=bug: diagnose.known(bug, f"recomputing {backward} with this mistake "
                                                                    f"reproduces your {', '.join(sorted(given))}"),
                           predicted) for bug, predicted in layer.mistakes(case, dout)]
            trials.append(diagnose.trial(hypotheses, given, truth, failing, narrow))
        for (_, case, dout, given, truth, failing, start, stop), found in zip(mine, diagnose.settle(trials)):
            found = _pattern(layer, case, given, truth) or found
            if failing and found is not None:
                records[start:stop] = [diagnose.with_diagnosis(r, found) if r.failed else r for r in records[start:stop]]
    return records


def _pattern(layer: cs231n.Layer, case: cs231n.Case, given: dict[str, np.ndarray],
             truth: dict[str, np.ndarray]) -> diagnose.Diagnosis | None:
    """Mistakes that show in a gradient's shape, or in its being nothing at all, rather than in its numbers."""
    if layer.name == "conv" and case.settings["pad"] == 0 and "dx" in given and 0 in given["dx"].shape[2:]:
        return diagnose.known("conv_pad_zero_slice", f"with pad = 0 your dx has shape {given['dx'].shape}")
    empty = [n for n, g in given.items() if np.shape(g) == np.shape(truth[n]) and not np.any(g) and np.any(truth[n])]
    off = [n for n, g in given.items() if np.shape(g) != np.shape(truth[n]) or not np.allclose(g, truth[n], rtol=1e-6,
                                                                                                atol=1e-12)]
    if empty and set(off) == set(empty):  # the gradients that are wrong are nothing but zeros
        return diagnose.known("gradient_all_zero", f"your {', '.join(empty)} {'is' if len(empty) == 1 else 'are'} "
                                                   f"all zeros on {case.context}")
    return None


def pair_records(module: Any, seed: int, measured: dict[str, Precision], run: set[str]) -> list[Comparison]:
    """Every assignment-2 layer pair of ``run`` (the functions to check) in ``module``, on each of its problems."""
    results: list[Comparison] = []
    for layer in cs231n.LAYERS:
        if layer.forward not in run:
            continue
        rng = np.random.default_rng([seed, zlib.crc32(layer.name.encode())])
        records: list[Comparison] = []
        pending: list[tuple] = []
        for case in layer.draw(rng):
            more, waiting = _pair_records(layer, module, case, rng, seed, measured, run)
            pending += [(*p[:6], p[6] + len(records), p[7] + len(records)) for p in waiting]
            records += more
        narrow = layer.name in measured and measured[layer.name].computes_in == np.float32
        results += _diagnosed(layer, records, pending, narrow)
    return results


# ---------------------------------------------------------------------------
# Dropout: the mask is the student's own draw, read back from the forward's output

DROPOUT_P = 0.3  # far from ½, so that keeping with probability p and dropping with it look nothing alike
DROPOUT_SHAPE = (40, 25)
MEANING = re.compile(r"\b(keep|retain|drop|zero)\w*\b[^.]*?\bprobability\s+(?:of\s+)?p\b", re.IGNORECASE)
DROPOUT_EQUATION = equations.Equation("inverted dropout", "out = x ∘ mask / keep in training, out = x in test mode; "
                                                          "dx = dout ∘ mask / keep")


def _meaning(forward: Callable) -> str | None:
    """"keep" or "drop": what p means by the forward's docstring, or None if it does not say."""
    found = MEANING.search(inspect.getdoc(forward) or "")
    return None if found is None else ("keep" if found.group(1).lower() in ("keep", "retain") else "drop")


def _dropout_records(module: Any, seed: int, measured: dict[str, Precision], backward: bool) -> list[Comparison]:
    forward, backward = _get(module, "dropout_forward"), _get(module, "dropout_backward") if backward else None
    rng = np.random.default_rng([seed, zlib.crc32(b"dropout")])
    x = cs231n.f32(rng.standard_normal(DROPOUT_SHAPE))
    x = np.where(np.abs(x) < cs231n.MARGIN, 0.5, x)  # a kept unit is never 0, so the mask reads off the output
    mask_seed = int(rng.integers(0, 2**31 - 1))
    p = DROPOUT_P
    train = {"mode": "train", "p": p, "seed": mask_seed}
    base = f"x {cs231n.shape(x)}, p = {p:g}, seed {mask_seed}"
    ctx = dict(problem=base, seed=seed)
    first = adapters.call(forward, [x, train], ["dropout_forward x", "dropout_param"])
    got = _output(first.output, "dropout_forward") if not first.error else _raised("dropout_forward", first.error)
    records = mutation_records(first.mutated, base, seed)
    if isinstance(got, str):
        return records + [failed("dropout_forward out", x.shape, got, witnesses=(YOURS, ORACLE), **ctx)]
    out, cache = got
    if out.shape != x.shape:
        return records + [compare(out, x, tensor="dropout_forward out", witnesses=(YOURS, ORACLE), **ctx)]
    again = _output(adapters.call(forward, [x, train], ["x", "dropout_param"]).output, "dropout_forward")
    seeded = not isinstance(again, str) and np.array_equal(again[0], out)
    kept = out != 0
    fraction = float(kept.mean())
    said = _meaning(forward)
    behaves = "keep" if abs(fraction - p) < abs(fraction - (1 - p)) else "drop"
    meaning = said or behaves
    keep = p if meaning == "keep" else 1 - p
    source = "your docstring" if said else "what your code does (its docstring does not say)"
    ctx["problem"] = f"{base}; p read as the probability to {meaning} a unit, from {source}"
    # The kept fraction of n independent units has standard deviation √(keep(1 − keep)/n): allow 6 of them.
    spread = 6 * np.sqrt(keep * (1 - keep) / x.size)
    fraction_record = compare(np.array(fraction), np.array(keep), tensor="dropout_forward kept fraction",
                              witnesses=(YOURS, "the keep probability"), equation=DROPOUT_EQUATION,
                              tolerance=Tolerance(spread / keep, 1e-5, "6 standard deviations of the kept fraction"), **ctx)
    if fraction_record.failed and said and abs(fraction - (1 - keep)) <= spread:
        fraction_record = diagnose.with_diagnosis(fraction_record, diagnose.known(
            "dropout_p_inverted", f"you keep {fraction:.0%} of the units with p = {p:g}, and your docstring says p is "
                                  f"the probability to {said} a unit"))
    records.append(fraction_record)
    if not seeded:
        records.append(failed("dropout_forward out", x.shape, "two calls with the same dropout_param['seed'] gave different "
                              "masks: call np.random.seed(dropout_param['seed']) when it is given, as the handout's "
                              "starter code does, so that a check (and a gradient check) can replay your mask",
                              witnesses=(YOURS, ORACLE), equation=DROPOUT_EQUATION, **ctx))
    settings = {"mask": kept.astype(np.float64), "keep": keep}
    expected = layer_oracle.forward(layer_oracle.dropout, (x,), settings)
    record = compare(out, expected, tensor="dropout_forward out", witnesses=(YOURS, ORACLE), equation=DROPOUT_EQUATION, **ctx)
    unscaled = lambda v: {"out": v * kept}
    if record.failed and diagnose.fits({"out": out}, unscaled(x)):
        record = diagnose.with_diagnosis(record, diagnose.known("dropout_not_scaled", "your kept units equal x, not x / keep"))
    records.append(record)
    test = adapters.call(forward, [x, {**train, "mode": "test"}], ["dropout_forward x", "dropout_param"])
    got_test = _output(test.output, "dropout_forward") if not test.error else _raised("dropout_forward in test mode", test.error)
    test_ctx = {**ctx, "problem": ctx["problem"].replace(base, f"{base}, test mode")}
    if isinstance(got_test, str):
        records.append(failed("dropout_forward out (test mode)", x.shape, got_test, witnesses=(YOURS, ORACLE), **test_ctx))
    else:
        record = compare(got_test[0], x, tensor="dropout_forward out (test mode)", witnesses=(YOURS, ORACLE),
                         equation=DROPOUT_EQUATION, **test_ctx)
        if record.failed and any(diagnose.fits({"out": got_test[0]}, {"out": x * k}) for k in (p, 1 - p)):
            record = diagnose.with_diagnosis(record, diagnose.known("dropout_test_mode_scaled", "your test-mode out is x times a constant"))
        records.append(record)
    if backward is None:
        return records
    dout = cs231n.f32(rng.standard_normal(x.shape))
    # The backward goes back through the forward you wrote: each unit's factor out/x is your mask and your
    # scale (the forward's own record judges those), so a backward is not failed for its forward's mistake.
    (truth,) = layer_oracle.vjp(layer_oracle.dropout, (x,), {"mask": out / x, "keep": 1.0}, dout)
    back = adapters.call(backward, [dout, cache], ["dropout_backward dout", "dropout_backward cache"])
    records += mutation_records(back.mutated, base, seed)
    given = adapters.as_gradients(back.output, ["x"], what="dropout_backward") if not back.error else _raised("dropout_backward", back.error)
    if isinstance(given, str):
        return records + [failed("dropout_backward dx", x.shape, given, witnesses=(YOURS, ORACLE), equation=DROPOUT_EQUATION, **ctx)]
    measured.setdefault("dropout", probe_arrays(lambda d: [np.asarray(adapters.as_gradients(
        adapters.call(backward, [d, cache], ["dout", "cache"]).output, ["x"], what="dropout_backward")["x"])], (dout,), ["dout"]))
    tolerance = measured["dropout"].tolerance
    judged = [compare(given["x"], truth, tensor="dropout_backward dx", witnesses=(YOURS, ORACLE), equation=DROPOUT_EQUATION,
                      tolerance=tolerance, **ctx)]
    if seeded:  # your forward replays its mask, so it can be differentiated
        (estimate,) = _differences(_own_forward(forward, (train,)), (x,), ("x",), dout, rng, measured["dropout"]).values()
        judged += fd_records("dropout_backward dx", given["x"], estimate, tolerance, ctx, DROPOUT_EQUATION)
    if any(r.failed for r in judged) and diagnose.fits({"dx": given["x"]}, {"dx": dout * kept}) and not np.allclose(out, x * kept):
        found = diagnose.known("dropout_not_scaled", "your dx equals dout ∘ mask, not dout ∘ mask / keep")
        judged = [diagnose.with_diagnosis(r, found) if r.failed else r for r in judged]
    return records + judged


# ---------------------------------------------------------------------------
# svm_loss(x, y) -> (loss, dx)

SVM_LOSS = equations.Equation("hinge", "L = (1/N) Σᵢ Σ_{j≠yᵢ} max(0, x_ij − x_iyᵢ + 1)")
SVM_GRADIENT = equations.Equation("hinge gradient", "dx_ij = 1[margin_ij > 0]/N for j ≠ yᵢ, dx_iyᵢ = −Σⱼ 1[margin_ij > 0]/N")


def _svm_records(fn: Callable, seed: int, measured: dict[str, Precision]) -> list[Comparison]:
    rng = np.random.default_rng([seed, zlib.crc32(b"svm_loss")])
    n, c = 7, 4
    for attempt in range(100):
        x, y = cs231n.f32(rng.standard_normal((n, c))), rng.integers(0, c, n)
        margins = x - x[np.arange(n), y][:, None] + 1.0
        margins[np.arange(n), y] = 1.0
        if np.min(np.abs(margins)) > cs231n.MARGIN:  # clear of the hinge's kink
            break
    return _loss_records(fn, "svm_loss", x, (y,), layer_oracle.svm_loss, {"y": y}, (SVM_LOSS, SVM_GRADIENT),
                         f"x {n}×{c}, y of {n} labels", seed, measured,
                         lambda grad: [("sum_instead_of_mean", grad * n), ("sign_flip", -grad)])


TEMPORAL_LOSS = equations.Equation("ce over time", "L = −(1/N) Σₙ Σₜ mask[n, t]·log softmax(x[n, t])[y[n, t]]")
TEMPORAL_GRADIENT = equations.Equation("12 + ce over time", "dx[n, t] = mask[n, t]·(S[n, t] − I_y[n, t]) / N")


def _temporal_softmax_records(fn: Callable, seed: int, measured: dict[str, Precision]) -> list[Comparison]:
    rng = np.random.default_rng([seed, zlib.crc32(b"temporal_softmax_loss")])
    n, t, v = 3, 4, 5
    x, y = cs231n.f32(rng.standard_normal((n, t, v))), rng.integers(0, v, (n, t))
    mask = rng.random((n, t)) < 0.7
    mask[0, -1], mask[1, 0] = False, True  # padding and words, in every problem
    settings = {"y": y, "mask": mask}

    def mistakes(grad: np.ndarray) -> list[tuple[str, np.ndarray]]:
        (unmasked,) = layer_oracle.vjp(layer_oracle.temporal_softmax_loss, (x,), {"y": y, "mask": np.ones_like(mask)},
                                       np.array(1.0))
        return [("mask_ignored", unmasked), ("sum_instead_of_mean", grad * n)]

    return _loss_records(fn, "temporal_softmax_loss", x, (y, mask), layer_oracle.temporal_softmax_loss, settings,
                         (TEMPORAL_LOSS, TEMPORAL_GRADIENT), f"x {n}×{t}×{v}, y {n}×{t}, mask with {int((~mask).sum())} "
                         f"padded steps", seed, measured, mistakes)


def _loss_records(fn: Callable, name: str, x: np.ndarray, labels: tuple, loss_oracle: Callable, settings: dict,
                  equations_: tuple[equations.Equation, equations.Equation], context: str, seed: int,
                  measured: dict[str, Precision],
                  mistakes: Callable[[np.ndarray], list[tuple[str, np.ndarray]]]) -> list[Comparison]:
    """A loss layer ``fn(x, *labels) -> (loss, dx)``: both against the oracle, dx against your own loss too."""
    loss_equation, gradient_equation = equations_
    ctx = dict(problem=context, seed=seed, witnesses=(YOURS, ORACLE))
    value = float(layer_oracle.forward(loss_oracle, (x,), settings))
    (grad,) = layer_oracle.vjp(loss_oracle, (x,), settings, np.array(1.0))
    names = [f"{name} x", *(f"{name} {label}" for label in ("y", "mask")[:len(labels)])]
    call = adapters.call(fn, [x, *labels], names)
    pair = _pair(call.output, name) if not call.error else _raised(name, call.error)
    records = mutation_records(call.mutated, context, seed)
    if isinstance(pair, str):
        return records + [failed(f"{name} dx", grad.shape, pair, equation=gradient_equation, **ctx)]
    loss, dx = (adapters.as_float_array(v) for v in pair)
    if isinstance(loss, str) or isinstance(dx, str):
        return records + [failed(f"{name} dx", grad.shape, f"{name} returned (loss, dx) that are not numbers: "
                                 f"{loss if isinstance(loss, str) else dx}", equation=gradient_equation, **ctx)]

    def outputs(v: np.ndarray) -> list[np.ndarray] | None:
        got = adapters.call(fn, [v, *labels], names)
        pair = None if got.error else _pair(got.output, name)
        return None if pair is None or isinstance(pair, str) else [np.asarray(pair[0], float), np.asarray(pair[1], float)]

    measured.setdefault(name, probe_arrays(outputs, (x,), ("x",)))
    tolerance = measured[name].tolerance
    judged = [compare(np.reshape(loss, ()) if loss.size == 1 else loss, np.array(value), tensor=f"{name} loss",
                      equation=loss_equation, tolerance=tolerance, **ctx),
              compare(dx, grad, tensor=f"{name} dx", equation=gradient_equation, tolerance=tolerance, **ctx)]

    def own_loss(v: np.ndarray) -> float:
        got = outputs(v)
        if got is None:
            raise InvalidArgument(f"your {name} failed on a perturbed x")
        return float(np.reshape(got[0], ()))

    try:
        estimate: Any = finite_diff.gradient(own_loss, x, method="richardson", precision=measured[name].computes_in,
                                             truncation=True)
    except Exception as exc:
        estimate = adapters.describe_exception(exc)
    judged += fd_records(f"{name} dx", dx, estimate, tolerance, dict(problem=context, seed=seed), gradient_equation)
    if any(r.failed for r in judged):
        hypotheses = [(bug, lambda bug=bug: diagnose.known(bug, f"recomputing {name}'s dx with this mistake reproduces yours"),
                       {"dx": predicted}) for bug, predicted in mistakes(grad)]
        (found,) = diagnose.settle([diagnose.trial(hypotheses, {"dx": dx}, {"dx": grad}, True,
                                                   narrow=measured[name].computes_in == np.float32)])
        judged = [diagnose.with_diagnosis(r, found) if r.failed and r.tensor.startswith(f"{name} dx") else r for r in judged]
    return records + judged
