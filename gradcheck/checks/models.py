"""CS231n assignment 2's whole model: ``FullyConnectedNet(hidden_dims, …).loss(X, y)`` in ``fc_net.py``.

The net is built the way the handout's notebook builds it for gradient checks
(float64, a seed for dropout), then its ``params`` are replaced by values drawn
here: every ReLU pre-activation clear of the kink, float32 numbers. Its loss
and every gradient in ``grads`` are compared with a JAX oracle of the same
architecture (affine → [batch/layer norm] → ReLU, …, affine → softmax, plus
the handout's ``0.5·reg·ΣW²`` or ``reg·ΣW²``), and every gradient with finite
differences of the net's own loss. With dropout the mask is the net's own
seeded draw, so finite differences of its own loss are the witness there.
The handout's years differ: ``normalization=`` (2019 on) or ``use_batchnorm=``
(earlier), ``dropout_keep_ratio=`` or ``dropout=``; the constructor's own
signature says which, and a configuration it cannot express is reported as
unsupported.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from gradcheck import adapters, equations, layer_oracle
from gradcheck.checks.classifiers import ORACLE, REGULARISATIONS
from gradcheck.checks.common import YOURS, model_differences, model_gradient, mutation_records
from gradcheck.checks.result import CheckResult, settle
from gradcheck.compare import Comparison, compare, failed, tolerance_for

# (normalization, keep probability): each option of the handout's constructor once
CONFIGS = (("none", 1.0), ("batchnorm", 1.0), ("layernorm", 1.0), ("none", 0.75))
N, D, HIDDEN, C, REG = 7, 5, (6, 4), 3, 0.1
LOSS = equations.Equation("ce + reg", "L = mean ℓ_ce(h, y) + 0.5·reg·Σᵢ‖Wᵢ‖²  (h: affine → [norm] → ReLU, …, affine)")
GRADIENT = equations.Equation("14, 15 through every layer", "∇Wᵢ = Zᵢᵀ δᵢ + reg·Wᵢ, δ passed back through each layer's VJP")


def present(module: Any) -> bool:
    """Whether ``module`` defines assignment 2's ``FullyConnectedNet`` with a ``loss`` method (the stub waits)."""
    from gradcheck.coverage import is_stub

    cls = getattr(module, "FullyConnectedNet", None)
    return isinstance(cls, type) and callable(getattr(cls, "loss", None)) and not is_stub(cls)


def _keywords(cls: type, normalization: str, keep: float) -> dict[str, Any] | str:
    """The constructor's keywords for one configuration in this year's signature, or why it has none."""
    try:
        accepted = set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        accepted = set()
    kwargs: dict[str, Any] = {"input_dim": D, "num_classes": C, "reg": REG, "dtype": np.float64, "seed": 0}
    if normalization != "none":
        if "normalization" in accepted:
            kwargs["normalization"] = normalization
        elif "use_batchnorm" in accepted and normalization == "batchnorm":
            kwargs["use_batchnorm"] = True
        else:
            return f"{normalization}: FullyConnectedNet takes no normalization={normalization!r}"
    if keep < 1:
        if "dropout_keep_ratio" in accepted:
            kwargs["dropout_keep_ratio"] = keep
        elif "dropout" in accepted:
            kwargs["dropout"] = 1 - keep  # the older handouts' "dropout strength"
        else:
            return "dropout: FullyConnectedNet takes no dropout_keep_ratio= (or dropout=)"
    return {k: v for k, v in kwargs.items() if k in accepted or k in ("input_dim", "num_classes")}


def _oracle(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, normalization: str,
            scale: float) -> tuple[float, dict[str, np.ndarray], list[np.ndarray]]:
    """The loss, its gradients and every ReLU pre-activation of the handout's net, by JAX in float64."""
    jax, jnp = layer_oracle._jax(), layer_oracle._np()
    depth = len(HIDDEN) + 1

    def loss(p):
        pre = []
        h = jnp.asarray(X).reshape(len(X), -1)
        for i in range(1, depth):
            a = h @ p[f"W{i}"] + p[f"b{i}"]
            if normalization == "batchnorm":
                a = layer_oracle.batchnorm(a, p[f"gamma{i}"], p[f"beta{i}"], eps=1e-5)
            elif normalization == "layernorm":
                a = layer_oracle.layernorm(a, p[f"gamma{i}"], p[f"beta{i}"], eps=1e-5)
            pre.append(a)
            h = jnp.maximum(a, 0.0)
        s = h @ p[f"W{depth}"] + p[f"b{depth}"]
        data = jnp.mean(jax.scipy.special.logsumexp(s, axis=1) - s[jnp.arange(len(y)), y])
        return data + scale * 0.5 * REG * sum(jnp.sum(p[f"W{i}"] ** 2) for i in range(1, depth + 1)), pre

    (value, pre), grads = jax.value_and_grad(loss, has_aux=True)({k: jnp.asarray(v, jnp.float64) for k, v in params.items()})
    return float(value), {k: np.asarray(v) for k, v in grads.items()}, [np.asarray(a) for a in pre]


def _preactivations(params: dict[str, np.ndarray], X: np.ndarray, normalization: str) -> list[np.ndarray]:
    """What enters each ReLU, to draw problems clear of its kink (the oracle's forward, in numpy)."""
    out, h = [], X
    for i in range(1, len(HIDDEN) + 1):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        axis = {"batchnorm": 0, "layernorm": 1}.get(normalization)
        if axis is not None:
            mean, var = a.mean(axis=axis, keepdims=True), a.var(axis=axis, keepdims=True)
            a = params[f"gamma{i}"] * (a - mean) / np.sqrt(var + 1e-5) + params[f"beta{i}"]
        out.append(a)
        h = np.maximum(a, 0.0)
    return out


def _problem(normalization: str, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Params, X and y with every ReLU pre-activation at least 0.05 from the kink, float32 values."""
    widths = (D, *HIDDEN, C)
    f32 = lambda a: a.astype(np.float32).astype(np.float64)
    for attempt in range(200):
        rng = np.random.default_rng([seed, len(normalization), attempt])
        params = {}
        for i, (a, b) in enumerate(zip(widths, widths[1:]), start=1):
            params[f"W{i}"], params[f"b{i}"] = f32(rng.standard_normal((a, b)) / np.sqrt(a)), f32(0.1 * rng.standard_normal(b))
            if normalization != "none" and i < len(widths) - 1:
                params[f"gamma{i}"], params[f"beta{i}"] = f32(rng.uniform(0.5, 2.0, b)), f32(0.1 * rng.standard_normal(b))
        X, y = f32(rng.standard_normal((N, D))), rng.integers(0, C, N)
        if all(np.min(np.abs(a)) > 0.05 for a in _preactivations(params, X, normalization)):
            return params, X, y
    raise RuntimeError("could not draw a FullyConnectedNet clear of ReLU's kink")


def _config_records(cls: type, normalization: str, keep: float, seed: int) -> tuple[list[Comparison], str | None]:
    kwargs = _keywords(cls, normalization, keep)
    if isinstance(kwargs, str):
        return [], kwargs
    params, X, y = _problem(normalization, seed)
    label = f"FullyConnectedNet({list(HIDDEN)}, normalization={normalization}, keep={keep:g})"
    context = f"{label}, X {N}×{D}, reg={REG:g}"
    ctx = dict(problem=context, seed=seed)

    def fresh() -> Any:
        net = cls(list(HIDDEN), **kwargs)
        net.params = {k: v.copy() for k, v in params.items()}
        return net

    try:
        net = fresh()
    except Exception as exc:
        return [failed("FullyConnectedNet", (), f"creating {label} raised {adapters.describe_exception(exc)}",
                       witnesses=(YOURS, ORACLE), **ctx)], None
    call = adapters.call(net.loss, [X, y], ["X", "y"])
    out = call.output
    if call.error or not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], dict)):
        why = (f"your FullyConnectedNet.loss raised {call.error}" if call.error else
               f"FullyConnectedNet.loss(X, y) must return (loss, grads); it returned {type(out).__name__}")
        return [failed(f"FullyConnectedNet {k}", v.shape, why, witnesses=(YOURS, ORACLE), **ctx) for k, v in params.items()], None
    value = adapters.as_float_array(out[0])
    dropout = keep < 1
    truths = {} if dropout else {s: _oracle(params, X, y, normalization, s) for s in REGULARISATIONS}
    scale = next((s for s, (v, _, _) in truths.items() if not isinstance(value, str) and np.size(value) == 1
                  and np.isclose(float(value), v, rtol=1e-5)), 0.5 if 0.5 in truths else 1.0)
    records: list[Comparison] = []
    if truths:
        loss, grads, _ = truths[scale]
        records.append(compare(value, np.array(loss), tensor="FullyConnectedNet loss", witnesses=(YOURS, ORACLE),
                               equation=LOSS, **ctx) if not isinstance(value, str) else
                       failed("FullyConnectedNet loss", (), value, **ctx))
    given = out[1]
    for k in params:
        got = model_gradient("FullyConnectedNet", given, k, params[k].shape, ORACLE, ctx)
        if isinstance(got, Comparison):
            records.append(got)
            continue
        if truths:
            # A bias before a normalization has gradient 0: the normalization removes its mean. Both sides are
            # then rounding, on the scale of the sums that make the layer's weight gradient.
            zero = normalization != "none" and k.startswith("b") and f"gamma{k[1:]}" in params
            rounding = tolerance_for(got.dtype).rtol * float(np.max(np.abs(grads[f"W{k[1:]}"]))) if zero else None
            records.append(compare(got, grads[k], tensor=f"FullyConnectedNet {k}", witnesses=(YOURS, ORACLE),
                                   uncertainty=None if rounding is None else np.asarray(rounding), equation=GRADIENT, **ctx))
        records += model_differences("FullyConnectedNet", fresh, k, params, lambda net: net.loss(X, y), got, GRADIENT,
                                     ORACLE, ctx)
    return records + mutation_records(call.mutated, context, seed), None


def check_fc_net(module: Any, *, seed: int = 0, require_stability: bool = False) -> CheckResult:
    """Check ``FullyConnectedNet(...).loss`` without normalization, with batch and layer norm, and with dropout."""
    cls = module.FullyConnectedNet if isinstance(getattr(module, "FullyConnectedNet", None), type) else module
    results: list[Comparison] = []
    unsupported = []
    for normalization, keep in CONFIGS:
        records, why = _config_records(cls, normalization, keep, seed)
        results += records
        if why:
            unsupported.append(why)
    return settle("FullyConnectedNet.loss", "CS231n fully-connected net", results, seed,
                  require_stability=require_stability, unsupported=tuple(unsupported))
