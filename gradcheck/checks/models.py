"""CS231n assignment 2's whole model: ``FullyConnectedNet(hidden_dims, …).loss(X, y)`` in ``fc_net.py``.

The net is built the way the handout's notebook builds it for gradient checks
(float64, a seed for dropout), then its ``params`` are replaced by values drawn
here: every ReLU pre-activation clear of the kink, float32 numbers. Its loss
and every gradient in ``grads`` are compared with a JAX oracle of the same
architecture (affine → [batch/layer norm] → ReLU, …, affine → softmax, plus
the handout's ``0.5·reg·ΣW²``), and every gradient with finite
differences of the net's own loss. With dropout the mask is the net's own
seeded draw, so finite differences of its own loss are the witness there.
The handout's years differ: ``normalization=`` (2019 on) or ``use_batchnorm=``
(earlier), ``dropout_keep_ratio=`` or ``dropout=``; the constructor's own
signature says which, and a configuration it cannot express is reported as
unsupported.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from gradcheck import adapters, diagnose, equations, layer_oracle
from gradcheck.checks.classifiers import ORACLE, REGULARISATIONS, net_diagnosis
from gradcheck.checks.common import (
    YOURS, advice_for, extension_missing, handout_shape, model_differences, model_gradient, mutation_records, not_run,
)
from gradcheck.checks.result import RERUN, CheckResult, settle
from gradcheck.compare import Comparison, compare, failed, tolerance_for

# (normalization, keep probability): each option of the handout's constructor once
CONFIGS = (("none", 1.0), ("batchnorm", 1.0), ("layernorm", 1.0), ("none", 0.75))
N, D, HIDDEN, C, REG = 7, 5, (6, 4), 3, 0.1
SCORES = equations.Equation("forward, test mode", "loss(X) with y=None returns the scores: no dropout, every layer as in training")
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
            scale: float) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The loss, its gradients and the scores of the handout's net, by JAX in float64."""
    jax, jnp = layer_oracle._jax(), layer_oracle._np()
    depth = len(HIDDEN) + 1

    def loss(p):
        h = jnp.asarray(X).reshape(len(X), -1)
        for i in range(1, depth):
            a = h @ p[f"W{i}"] + p[f"b{i}"]
            if normalization == "batchnorm":
                a = layer_oracle.batchnorm(a, p[f"gamma{i}"], p[f"beta{i}"], eps=1e-5)
            elif normalization == "layernorm":
                a = layer_oracle.layernorm(a, p[f"gamma{i}"], p[f"beta{i}"], eps=1e-5)
            h = jnp.maximum(a, 0.0)
        s = h @ p[f"W{depth}"] + p[f"b{depth}"]
        data = jnp.mean(jax.scipy.special.logsumexp(s, axis=1) - s[jnp.arange(len(y)), y])
        return data + scale * REG * sum(jnp.sum(p[f"W{i}"] ** 2) for i in range(1, depth + 1)), s

    (value, s), grads = jax.value_and_grad(loss, has_aux=True)({k: jnp.asarray(v, jnp.float64) for k, v in params.items()})
    return float(value), {k: np.asarray(v) for k, v in grads.items()}, np.asarray(s)


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
    ctx = dict(problem=f"{label}, X {N}×{D}, reg={REG:g}", seed=seed)
    truths = {} if keep < 1 else {s: _oracle(params, X, y, normalization, s)[:2] for s in REGULARISATIONS}
    # A bias before a normalization has gradient 0: the normalization removes its mean.
    zero = {k: f"W{k[1:]}" for k in params if normalization != "none" and k.startswith("b") and f"gamma{k[1:]}" in params}
    # loss(X) is test mode: no dropout, the same net's scores; batchnorm's would use running statistics instead
    scores = None if normalization == "batchnorm" else _oracle(params, X, y, normalization, 1.0)[2]
    records = net_records("FullyConnectedNet", lambda: cls(list(HIDDEN), **kwargs), label, params, X, y, REG, truths,
                          ctx, LOSS, GRADIENT, zero, scores)
    return records + (_dropout_applied(cls, kwargs, params, X, y, keep, ctx) if keep < 1 else []), None


def _dropout_applied(cls: type, kwargs: dict, params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, keep: float,
                     ctx: dict) -> list[Comparison]:
    """With dropout on, the training loss is not the loss without it: a net that never drops fails here
    (a record only then: the loss and gradients are judged by the other records).

    Its gradients can still agree with its own loss's differences, the only witness of a seeded mask.
    """
    try:
        net = cls(list(HIDDEN), **kwargs)
        net.params = {k: v.copy() for k, v in params.items()}
    except Exception:
        return []  # net_records has said why
    call = adapters.call(net.loss, [X, y], ["X", "y"])
    value = None if call.error or not isinstance(call.output, (tuple, list)) else adapters.as_float_array(call.output[0])
    if value is None or isinstance(value, str) or np.size(value) != 1:
        return []
    plain = _oracle(params, X, y, "none", 0.5)[0]
    label = "FullyConnectedNet dropout"
    if np.isclose(float(np.reshape(value, ())), plain, rtol=1e-9, atol=0.0):
        return [failed(label, (), f"with dropout (keep {keep:g}) your training loss is the loss of the same net "
                       f"without dropout, {plain:.6g}: dropout is never applied in loss(X, y)",
                       witnesses=(YOURS, ORACLE), **ctx)]
    return []


def net_records(name: str, build: Callable[[], Any], label: str, params: dict[str, np.ndarray], X: np.ndarray,
                y: np.ndarray, reg: float, truths: dict[float, tuple[float, dict[str, np.ndarray]]], ctx: dict[str, Any],
                loss_equation: equations.Equation, gradient_equation: equations.Equation,
                zero: dict[str, str] | None = None, scores: np.ndarray | None = None) -> list[Comparison]:
    """A model's ``loss(X, y) -> (loss, grads)`` with ``params`` against the oracle and its own finite differences.

    ``build()`` makes the model (regularised by ``reg``), whose params are then
    replaced by copies of ``params``; ``truths`` maps each regularisation scale (0.5, the handout's, and
    1, to name the mistake of leaving it out) to the oracle's loss and gradients (empty when only the model's own
    differences can judge, as with its dropout mask); ``zero`` names the
    gradients that are 0 by construction, with the weight whose gradient
    gives the scale of their rounding; ``scores``, what ``loss(X)`` (test
    mode, y=None) must return.
    """
    zero = zero or {}

    def fresh() -> Any:
        net = build()
        net.params = {k: v.copy() for k, v in params.items()}
        return net

    try:
        net = fresh()
    except Exception as exc:
        return [failed(name, (), f"creating {label} raised {adapters.describe_exception(exc)}", witnesses=(YOURS, ORACLE), **ctx)]
    call = adapters.call(net.loss, [X, y], ["X", "y"])
    out = call.output
    if extension_missing(call.error):
        why = f"your {name}.loss needs a compiled extension it could not import ({call.error})"
        return [not_run(f"{name} {k}", v.shape, why, ctx, ORACLE) for k, v in params.items()]
    if call.error or not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], dict)):
        why = (f"your {name}.loss raised {call.error}" if call.error else
               f"{name}.loss(X, y) must return (loss, grads); it returned {type(out).__name__}")
        return [failed(f"{name} {k}", v.shape, why, witnesses=(YOURS, ORACLE), **ctx) for k, v in params.items()]
    value = adapters.as_float_array(out[0])
    # Assignment 2's models say: "make sure that your L2 regularization includes a factor of 0.5". The other
    # reading (reg·ΣW², 2·reg·W) is kept only to name that mistake.
    scale = 0.5
    unhalved = truths.get(1.0)
    records: list[Comparison] = []
    if truths:
        loss, grads = truths[scale]
        records.append(compare(value, np.array(loss), tensor=f"{name} loss", witnesses=(YOURS, ORACLE),
                               equation=loss_equation, **ctx) if not isinstance(value, str) else
                       failed(f"{name} loss", (), value, **ctx))
        if records[-1].failed and not isinstance(value, str) and np.size(value) == 1 and np.isclose(
                float(value), unhalved[0], rtol=1e-6):
            records[-1] = diagnose.with_diagnosis(records[-1], diagnose.known(
                "regularization_not_halved", f"your loss is the handout's with reg·ΣW² for 0.5·reg·ΣW² (reg={reg:g})"))
    problem = ctx["problem"]
    for k in params:
        got = model_gradient(name, out[1], k, params[k].shape, ORACLE, ctx)
        if isinstance(got, Comparison):
            records.append(got)
            continue
        shaped = ""
        if k.startswith(("gamma", "beta")):  # kept as (1, D), as the notebook's rel_error lets it be
            got, shaped = handout_shape(got, params[k], f"grads[{k!r}]")
        ctx = dict(ctx, problem=problem + shaped)
        judged = []
        if truths:
            # A gradient that is 0 by construction is rounding on both sides, on the scale of the sums that make
            # the weight's gradient (the same N terms).
            rounding = tolerance_for(got.dtype).rtol * float(np.max(np.abs(grads[zero[k]]))) if k in zero else None
            judged.append(compare(got, grads[k], tensor=f"{name} {k}", witnesses=(YOURS, ORACLE),
                                  uncertainty=None if rounding is None else np.asarray(rounding),
                                  equation=gradient_equation, **ctx))
        judged += model_differences(name, fresh, k, params, lambda net: net.loss(X, y), got, gradient_equation,
                                    ORACLE, ctx)
        if truths and any(r.failed for r in judged) and got.shape == grads[k].shape:
            found = (diagnose.known("regularization_not_halved", f"your {k} gradient adds 2·reg·{k}")
                     if k.startswith("W") and np.allclose(got, unhalved[1][k], rtol=1e-6, atol=1e-12) else
                     net_diagnosis(k, params, grads, got, 2 * scale * reg, len(X)))  # reg·ΣW² has gradient 2·reg·W
            judged = [diagnose.with_diagnosis(r, found) if r.failed else r for r in judged]
        records += judged
    ctx = dict(ctx, problem=problem)
    if scores is not None:  # with y=None the handout's loss returns the scores, in test mode
        scored = adapters.call(fresh().loss, [X], ["X"])
        got = scored.error and f"your {name}.loss(X) raised {scored.error}" or adapters.as_float_array(scored.output)
        records.append(failed(f"{name} scores", scores.shape, got, witnesses=(YOURS, ORACLE), **ctx) if isinstance(got, str)
                       else compare(got, scores, tensor=f"{name} scores", witnesses=(YOURS, ORACLE), equation=SCORES, **ctx))
    return records + mutation_records(call.mutated, ctx["problem"], ctx["seed"])


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
    return settle("FullyConnectedNet.loss", "CS231n fully-connected net", results, seed, advice=advice_for(results, RERUN),
                  require_stability=require_stability, unsupported=tuple(unsupported))


# ---------------------------------------------------------------------------
# cnn.py: ThreeLayerConvNet, conv - relu - 2x2 max pool - affine - relu - affine - softmax

IMAGE, FILTERS, FILTER_SIZE, CNN_HIDDEN, CNN_CLASSES, CNN_N = (3, 4, 4), 3, 3, 6, 4, 2
CNN_LOSS = equations.Equation("ce + reg", "L = mean ℓ_ce(s, y) + 0.5·reg·Σᵢ‖Wᵢ‖²  "
                                          "(s: conv → ReLU → 2×2 max pool → affine → ReLU → affine)")
CNN_GRADIENT = equations.Equation("14, 15 through conv and pool", "∇W₃ = hᵀδ₃ + reg·W₃, then δ back through ReLU, the "
                                  "pool (to each window's maximum) and the convolution: ∇W₁ = x_pad ⋆ δ₁ + reg·W₁")


def cnn_present(module: Any) -> bool:
    """Whether ``module`` defines assignment 2's ``ThreeLayerConvNet`` with a ``loss`` method (the stub waits)."""
    from gradcheck.coverage import is_stub

    cls = getattr(module, "ThreeLayerConvNet", None)
    return isinstance(cls, type) and callable(getattr(cls, "loss", None)) and not is_stub(cls)


def _cnn_settings() -> dict[str, int]:
    # the handout's: stride 1 and the padding that keeps the size, then a 2×2 pool of stride 2
    return {"stride": 1, "pad": (FILTER_SIZE - 1) // 2, "height": 2, "width": 2, "pool_stride": 2}


def _cnn_scores(params: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """The scores of the handout's three-layer convolutional net, by JAX in float64."""
    from gradcheck.checks import cs231n

    pooled = layer_oracle.forward(cs231n.conv_relu_pool, (X, params["W1"], params["b1"]), _cnn_settings())
    hidden = np.maximum(pooled.reshape(len(X), -1) @ params["W2"] + params["b2"], 0.0)
    return hidden @ params["W3"] + params["b3"]


def _cnn_loss(X, W1, b1, W2, b2, W3, b3, Y, *, scale: float, reg: float, **settings: int):
    """The handout's three-layer convolutional net's loss; ``Y`` holds the labels one-hot."""
    from gradcheck.checks import cs231n

    jax, jnp = layer_oracle._jax(), layer_oracle._np()
    pooled = cs231n.conv_relu_pool(X, W1, b1, **settings)
    s = layer_oracle.affine(layer_oracle.relu(layer_oracle.affine(pooled, W2, b2)), W3, b3)
    data = jnp.mean(jax.scipy.special.logsumexp(s, axis=1) - jnp.sum(Y * s, axis=1))
    return data + scale * reg * (jnp.sum(W1 ** 2) + jnp.sum(W2 ** 2) + jnp.sum(W3 ** 2))


def _cnn_oracle(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, scale: float,
                reg: float) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and gradients of the handout's three-layer convolutional net, by JAX in float64."""
    keys = ("W1", "b1", "W2", "b2", "W3", "b3")
    inputs = (X, *(params[k] for k in keys), np.eye(CNN_CLASSES)[y])
    settings = {"scale": scale, "reg": reg, **_cnn_settings()}
    grads = layer_oracle.vjp(_cnn_loss, inputs, settings, np.array(1.0))
    return float(layer_oracle.forward(_cnn_loss, inputs, settings)), dict(zip(keys, grads[1:]))


def _cnn_problem(seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Params, X and y clear of every kink (both ReLUs, each pool window's top two), float32 values."""
    from gradcheck.checks import cs231n

    c, h, w = IMAGE
    settings = _cnn_settings()
    conv = {k: settings[k] for k in ("stride", "pad")}
    flat = FILTERS * (h // 2) * (w // 2)
    for attempt in range(200):
        rng = np.random.default_rng([seed, 3, attempt])
        X = cs231n.f32(rng.standard_normal((CNN_N, c, h, w)))
        params = {"W1": cs231n.f32(0.5 * rng.standard_normal((FILTERS, c, FILTER_SIZE, FILTER_SIZE))),
                  "b1": cs231n.f32(rng.standard_normal(FILTERS)),
                  "W2": cs231n.f32(rng.standard_normal((flat, CNN_HIDDEN)) / np.sqrt(flat)),
                  "b2": cs231n.f32(0.1 * rng.standard_normal(CNN_HIDDEN)),
                  "W3": cs231n.f32(rng.standard_normal((CNN_HIDDEN, CNN_CLASSES)) / np.sqrt(CNN_HIDDEN)),
                  "b3": cs231n.f32(0.1 * rng.standard_normal(CNN_CLASSES))}
        pre = layer_oracle.forward(layer_oracle.conv, (X, params["W1"], params["b1"]), conv)
        if not cs231n._clear_of_kinks(pre, (2, 2, 2)):
            continue
        pooled = layer_oracle.forward(cs231n.conv_relu_pool, (X, params["W1"], params["b1"]), settings)
        if np.min(np.abs(pooled.reshape(CNN_N, -1) @ params["W2"] + params["b2"])) > cs231n.MARGIN:
            return params, X, rng.integers(0, CNN_CLASSES, CNN_N)
    raise RuntimeError("could not draw a ThreeLayerConvNet problem clear of its kinks")


def check_cnn(module: Any, *, seed: int = 0, require_stability: bool = False) -> CheckResult:
    """Check ``ThreeLayerConvNet(...).loss(X, y)`` against a JAX oracle of the same net and its own finite differences.

    The net is built in float64 on 3×4×4 images (3 filters of 3×3, a hidden
    layer of 6, 4 classes, reg 0.1); its params are replaced by values drawn
    clear of both ReLUs' kinks and of ties in every pooling window.
    """
    cls = module.ThreeLayerConvNet if isinstance(getattr(module, "ThreeLayerConvNet", None), type) else module
    wanted = {"input_dim": IMAGE, "num_filters": FILTERS, "filter_size": FILTER_SIZE, "hidden_dim": CNN_HIDDEN,
              "num_classes": CNN_CLASSES, "reg": REG, "dtype": np.float64}
    try:
        accepted = set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        accepted = set(wanted)
    kwargs = {k: v for k, v in wanted.items() if k in accepted or k in ("input_dim", "num_filters", "filter_size")}
    params, X, y = _cnn_problem(seed)
    label = (f"ThreeLayerConvNet(input_dim={IMAGE}, num_filters={FILTERS}, filter_size={FILTER_SIZE}, "
             f"hidden_dim={CNN_HIDDEN}, num_classes={CNN_CLASSES})")
    ctx = dict(problem=f"{label}, X {'×'.join(map(str, X.shape))}, reg={REG:g}", seed=seed)
    truths = {s: _cnn_oracle(params, X, y, s, REG) for s in REGULARISATIONS}
    results = net_records("ThreeLayerConvNet", lambda: cls(**kwargs), label, params, X, y, REG, truths,
                          ctx, CNN_LOSS, CNN_GRADIENT, scores=_cnn_scores(params, X))
    return settle("ThreeLayerConvNet.loss", "CS231n three-layer convolutional net", results, seed,
                  advice=advice_for(results, RERUN),
                  require_stability=require_stability)
