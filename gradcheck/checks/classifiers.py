"""CS231n assignment 1: the linear classifiers ``svm_loss_*`` / ``softmax_loss_*(W, X, y, reg) -> (loss, dW)``
and ``TwoLayerNet.loss(X, y=None, reg)``.

Each function defined is checked on problems shaped as the handout draws them
(N examples ≠ C classes, D features, labels in [0, C)): its loss against an
independent JAX oracle of the same loss, its dW against the oracle's gradient
and against finite differences of the student's own loss. The handouts wrote
the regularisation two ways over the years, ``reg·ΣW²`` (dW += 2·reg·W) and
``0.5·reg·ΣW²`` (dW += reg·W); the one the student's loss follows is the one
checked, and the report says which.
"""

from __future__ import annotations

import inspect

from typing import Any, Callable, Mapping

import numpy as np

from gradcheck import adapters, diagnose, equations, finite_diff, problems
from gradcheck.checks.common import YOURS, model_differences, model_gradient, mutation_records, precision_summary
from gradcheck.checks.result import CheckResult, settle
from gradcheck.compare import Comparison, compare, failed
from gradcheck.precision import Precision, probe_arrays

FUNCTIONS = ("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized")
ORACLE = "JAX (float64)"  # the independent oracle every CS231n check names
FD = "finite differences of your loss"
# A linear classifier is the linear hypothesis h = θᵀx (h = XW for a batch), with the handout's loss and regularisation.
LOSS = equations.Equation("ce / hinge + reg", "L = (1/N) Σᵢ Lᵢ + reg·ΣW²  (Lᵢ = −log softmax(sᵢ)_yᵢ, or the "
                                              "hinge Σⱼ≠yᵢ max(0, sⱼ − s_yᵢ + 1); s = XW)")
GRADIENT = equations.Equation("16, one linear layer", "dW = Xᵀ ∂L/∂s + 2·reg·W  (softmax: ∂L/∂s = (S − I_y)/N)")
REGULARISATIONS = {1.0: "reg·ΣW² (dW += 2·reg·W)", 0.5: "0.5·reg·ΣW² (dW += reg·W)"}
# (N, D, C, reg): N ≠ C, a case without regularisation, one with more classes than examples.
SHAPES = ((7, 5, 4, 0.1), (9, 6, 3, 0.0), (4, 3, 6, 0.5))


def present(module: Any) -> bool:
    """Whether ``module`` defines any assignment-1 classifier loss."""
    return any(callable(getattr(module, name, None)) for name in FUNCTIONS)


def oracle(kind: str, W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float, scale: float) -> tuple[float, np.ndarray]:
    """The loss and dW of the handout's classifier, by JAX autodiff in float64."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    rows = jnp.arange(len(y))

    def loss(W):
        s = jnp.asarray(X) @ W
        correct = s[rows, y][:, None]
        if kind == "svm":
            margins = jnp.where(jnp.arange(W.shape[1])[None, :] == y[:, None], 0.0, jnp.maximum(0.0, s - correct + 1.0))
            data = jnp.sum(margins) / len(y)
        else:
            data = jnp.mean(jax.scipy.special.logsumexp(s, axis=1) - correct[:, 0])
        return data + scale * reg * jnp.sum(W * W)

    value, grad = jax.value_and_grad(loss)(jnp.asarray(W, jnp.float64))
    return float(value), np.asarray(grad)


def _problem(kind: str, n: int, d: int, c: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W, X, y as the handout draws them (small random W), with every SVM margin clear of its kink."""
    for attempt in range(100):
        rng = np.random.default_rng([seed, n, d, c, attempt])
        # float32 values, so that code which casts its inputs loses nothing
        W = (0.5 * rng.standard_normal((d, c))).astype(np.float32).astype(np.float64)
        X = rng.standard_normal((n, d)).astype(np.float32).astype(np.float64)
        y = rng.integers(0, c, n)
        s = X @ W
        margins = s - s[np.arange(n), y][:, None] + 1.0
        margins[np.arange(n), y] = 1.0  # the correct class has no hinge
        if kind != "svm" or np.min(np.abs(margins)) > problems.KINK_MARGIN:
            return W, X, y
    raise RuntimeError("could not draw an SVM problem clear of the hinge's kink")


def _pair(call: adapters.Call, name: str) -> tuple[np.ndarray, np.ndarray] | str:
    if call.error:
        return f"your {name} raised {call.error}"
    out = call.output
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return f"{name} must return a pair (loss, dW); it returned {type(out).__name__}"
    loss, dW = (adapters.as_float_array(v) for v in out)
    if isinstance(loss, str) or isinstance(dW, str):
        return f"{name} returned (loss, dW) that are not numbers: {loss if isinstance(loss, str) else dW}"
    return loss, dW


def _records(fn: Callable, name: str, kind: str, shape: tuple[int, int, int, float], seed: int,
             measured: dict[str, Precision]) -> list[Comparison]:
    n, d, c, reg = shape
    W, X, y = _problem(kind, n, d, c, seed)
    context = f"W {d}×{c}, X {n}×{d}, reg={reg:g}"
    ctx = dict(problem=context, seed=seed)
    call = adapters.call(fn, [W, X, y, reg], ["W", "X", "y", "reg"])
    pair = _pair(call, name)
    if isinstance(pair, str):
        truth = oracle(kind, W, X, y, reg, 1.0)
        return [failed(f"{name} dW", truth[1].shape, pair, witnesses=(YOURS, ORACLE), equation=GRADIENT, **ctx)]
    value, dW = pair
    value = np.reshape(value, ()) if np.size(value) == 1 else value
    # The regularisation the student's loss follows, among the handouts' two.
    truths = {s: oracle(kind, W, X, y, reg, s) for s in REGULARISATIONS}
    scale = next((s for s, (v, _) in truths.items() if np.size(value) == 1 and np.isclose(float(value), v, rtol=1e-5)), 1.0)
    loss, grad = truths[scale]

    def outputs(W_: np.ndarray, X_: np.ndarray) -> list[np.ndarray] | None:
        got = _pair(adapters.call(fn, [W_, X_, y, reg], ["W", "X", "y", "reg"]), name)
        return None if isinstance(got, str) else [np.asarray(got[0], float), np.asarray(got[1], float)]

    if name not in measured:
        measured[name] = probe_arrays(outputs, (W, X), ("W", "X"))
    tolerance = measured[name].tolerance
    if reg:
        ctx["problem"] = f"{context}; regularisation read as {REGULARISATIONS[scale]}"
    records = [compare(value, np.array(loss), tensor=f"{name} loss", witnesses=(YOURS, ORACLE), equation=LOSS,
                       tolerance=tolerance, **ctx),
               compare(dW, grad, tensor=f"{name} dW", witnesses=(YOURS, ORACLE), equation=GRADIENT,
                       tolerance=tolerance, **ctx)]

    def own_loss(W_: np.ndarray) -> np.ndarray:
        got = _pair(adapters.call(fn, [W_, X, y, reg], ["W", "X", "y", "reg"]), name)
        if isinstance(got, str):
            raise ValueError(got)
        return np.reshape(np.asarray(got[0], dtype=np.float64), ())

    try:
        (estimate,) = finite_diff.vjp(own_loss, (W,), np.array(1.0), precision=measured[name].computes_in)
        records.append(compare(dW, estimate.values, tensor=f"{name} dW", witnesses=(YOURS, FD), equation=GRADIENT,
                               uncertainty=estimate.error, tolerance=tolerance, checkable=estimate.checkable,
                               not_checkable_reason=estimate.reason, **ctx))
    except Exception as exc:  # the student's loss misbehaving under perturbation
        records.append(failed(f"{name} dW", grad.shape, f"finite differences of your {name} failed: "
                              f"{adapters.describe_exception(exc)}", witnesses=(FD, ORACLE), **ctx))
    if any(r.failed for r in records):
        found = _diagnose(kind, W, X, y, reg, scale, dW, grad, measured[name])
        records = [diagnose.with_diagnosis(r, found) if r.failed and r.tensor.endswith("dW") else r for r in records]
    return records + mutation_records(call.mutated, context, seed)


def _diagnose(kind: str, W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float, scale: float, dW: np.ndarray,
              grad: np.ndarray, precision: Precision) -> diagnose.Diagnosis:
    """The classifiers' own mistakes: the batch mean forgotten, the regularisation's gradient left out."""
    regular = 2 * scale * reg * W
    data = grad - regular
    words = lambda bug: (lambda: diagnose.known(bug, f"recomputing dW with this mistake reproduces yours on W {W.shape[0]}×"
                                                     f"{W.shape[1]}, X {X.shape[0]}×{X.shape[1]}, reg={reg:g}"))
    hypotheses = [("sum_instead_of_mean", words("sum_instead_of_mean"), {"dW": data * len(y) + regular}),
                  ("regularization_gradient_missing", words("regularization_gradient_missing"), {"dW": data}),
                  ("sign_flip", words("sign_flip"), {"dW": -grad})]
    (found,) = diagnose.settle([diagnose.trial(hypotheses, {"dW": dW}, {"dW": grad}, True,
                                               narrow=precision.computes_in == np.float32)])
    assert found is not None
    return found


def check_linear_classifiers(module: Any, *, seed: int = 0, require_stability: bool = False) -> CheckResult:
    """Check every assignment-1 classifier loss ``module`` defines (see the module docstring)."""
    results: list[Comparison] = []
    measured: dict[str, Precision] = {}
    for name in FUNCTIONS:
        fn = getattr(module, name, None)
        if not callable(fn):
            continue
        kind = name.split("_")[0]
        for shape in SHAPES:
            results += _records(fn, name, kind, shape, seed, measured)
    return settle(getattr(module, "__name__", "classifiers"), "CS231n linear classifiers", results, seed,
                  require_stability=require_stability, precision=precision_summary(measured))


# ---------------------------------------------------------------------------
# neural_net.py: TwoLayerNet(input_size, hidden_size, output_size, std).loss(X, y=None, reg=0.0)

NET_PARAMS = ("W1", "b1", "W2", "b2")
NET_LOSS = equations.Equation("5 + ce + reg", "L = mean ℓ_ce(relu(XW₁ + b₁)W₂ + b₂, y) + reg·(ΣW₁² + ΣW₂²)")
NET_EQUATIONS = {"W1": equations.EQ11, "W2": equations.EQ10,
                 "b1": equations.Equation("15, bias", "∇b₁ = 1ᵀ ((S − I_y)/N W₂ᵀ ∘ relu'(XW₁ + b₁))"),
                 "b2": equations.Equation("15, bias", "∇b₂ = 1ᵀ (S − I_y)/N")}
NET_SHAPES = ((8, 5, 6, 3, 0.05), (5, 4, 3, 7, 0.0))  # (N, D, H, C, reg), N ≠ C


def net_present(module: Any) -> bool:
    """Whether ``module`` defines assignment 1's ``TwoLayerNet`` with a ``loss`` method."""
    cls = getattr(module, "TwoLayerNet", None)
    return isinstance(cls, type) and callable(getattr(cls, "loss", None))


def net_oracle(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, reg: float,
               scale: float) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
    """Scores, loss and gradients of the handout's two-layer net, by JAX autodiff in float64."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def scores(p):
        return jnp.maximum(0.0, jnp.asarray(X) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]

    def loss(p):
        s = scores(p)
        data = jnp.mean(jax.scipy.special.logsumexp(s, axis=1) - s[jnp.arange(len(y)), y])
        return data + scale * reg * (jnp.sum(p["W1"] ** 2) + jnp.sum(p["W2"] ** 2))

    p = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
    value, grads = jax.value_and_grad(loss)(p)
    return np.asarray(scores(p)), float(value), {k: np.asarray(v) for k, v in grads.items()}


def _net_problem(n: int, d: int, h: int, c: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Parameters, X and y, every hidden pre-activation clear of ReLU's kink, float32 values."""
    for attempt in range(100):
        rng = np.random.default_rng([seed, n, d, h, c, attempt])
        f32 = lambda a: a.astype(np.float32).astype(np.float64)
        params = {"W1": f32(0.5 * rng.standard_normal((d, h))), "b1": f32(0.1 * rng.standard_normal(h)),
                  "W2": f32(0.5 * rng.standard_normal((h, c))), "b2": f32(0.1 * rng.standard_normal(c))}
        X = f32(rng.standard_normal((n, d)))
        y = rng.integers(0, c, n)
        # clear of the kink by more than a finite-difference step moves a pre-activation (≈ 1e-3·|x|·max|W|)
        if np.min(np.abs(X @ params["W1"] + params["b1"])) > 0.05:
            return params, X, y
    raise RuntimeError("could not draw a two-layer net clear of ReLU's kink")


def _net_records(cls: type, shape: tuple[int, int, int, int, float], seed: int) -> list[Comparison]:
    n, d, h, c, reg = shape
    params, X, y = _net_problem(n, d, h, c, seed)
    # Assignment 1's loss(X, y=None, reg=0.0) takes reg; assignment 2's fc_net.py has
    # TwoLayerNet(input_dim, hidden_dim, num_classes, weight_scale, reg) and loss(X, y=None), with 0.5·reg·ΣW².
    second = not _takes(cls.loss, "reg")
    context = f"TwoLayerNet({d}, {h}, {c}{', reg=' + format(reg, 'g') if second else ''}), X {n}×{d}, reg={reg:g}"
    ctx = dict(problem=context, seed=seed)

    def fresh() -> Any:
        net = cls(d, h, c, reg=reg) if second and _takes(cls, "reg") else cls(d, h, c)
        if second:
            net.reg = reg
        net.params = {k: v.copy() for k, v in params.items()}
        return net

    args, names = ([X, y], ["X", "y"]) if second else ([X, y, reg], ["X", "y", "reg"])

    try:
        net = fresh()
    except Exception as exc:
        return [failed("TwoLayerNet", (), f"creating TwoLayerNet({d}, {h}, {c}) raised "
                       f"{adapters.describe_exception(exc)}", witnesses=(YOURS, ORACLE), **ctx)]
    call = adapters.call(net.loss, args, names)
    out = call.output
    if call.error or not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], dict)):
        why = (f"your TwoLayerNet.loss raised {call.error}" if call.error else
               f"TwoLayerNet.loss({', '.join(names)}) must return (loss, grads) with grads a dict keyed like params; "
               f"it returned {type(out).__name__}")
        return [failed(f"TwoLayerNet {k}", params[k].shape, why, witnesses=(YOURS, ORACLE), **ctx) for k in NET_PARAMS]
    value = adapters.as_float_array(out[0])
    truths = {s: net_oracle(params, X, y, reg, s) for s in ((0.5,) if second else REGULARISATIONS)}
    scale = next((s for s, (_, v, _) in truths.items()
                  if not isinstance(value, str) and np.size(value) == 1 and np.isclose(float(value), v, rtol=1e-5)),
                 0.5 if second else 1.0)
    scores, loss, grads = truths[scale]
    if reg:
        ctx["problem"] = f"{context}; regularisation read as {REGULARISATIONS[scale].split(' (')[0]}"
    records = [compare(value, np.array(loss), tensor="TwoLayerNet loss", witnesses=(YOURS, ORACLE), equation=NET_LOSS, **ctx)
               if not isinstance(value, str) else failed("TwoLayerNet loss", (), value, **ctx)]
    given = out[1]
    for k in NET_PARAMS:
        got = model_gradient("TwoLayerNet", given, k, params[k].shape, ORACLE, ctx)
        if isinstance(got, Comparison):
            records.append(got)
            continue
        judged = [compare(got, grads[k], tensor=f"TwoLayerNet {k}", witnesses=(YOURS, ORACLE),
                          equation=NET_EQUATIONS[k], **ctx)]
        judged += model_differences("TwoLayerNet", fresh, k, params, lambda net: net.loss(*args), got, NET_EQUATIONS[k],
                                    ORACLE, ctx)
        if any(r.failed for r in judged):
            found = net_diagnosis(k, params, grads, got, 2 * scale * reg, n)
            judged = [diagnose.with_diagnosis(r, found) if r.failed else r for r in judged]
        records += judged
    scored = adapters.call(fresh().loss, [X], ["X"])  # with y=None the handout's loss returns the scores
    got = scored.error and f"your TwoLayerNet.loss(X) raised {scored.error}" or adapters.as_float_array(scored.output)
    records.append(failed("TwoLayerNet scores", scores.shape, got, **ctx) if isinstance(got, str) else
                   compare(got, scores, tensor="TwoLayerNet scores", witnesses=(YOURS, ORACLE), **ctx))
    return records + mutation_records(call.mutated, context, seed)


def _takes(fn: Any, name: str) -> bool:
    """Whether ``fn`` (a function, or a class's constructor) has a parameter called ``name``."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def net_diagnosis(k: str, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], given: np.ndarray,
                   weight: float, n: int) -> diagnose.Diagnosis:
    """The batch mean forgotten, or the regularisation's gradient (weight·W) left out of grads[k]."""
    regular = weight * params[k] if k.startswith("W") else np.zeros_like(params[k])
    data = grads[k] - regular
    words = lambda bug: (lambda: diagnose.known(bug, f"recomputing grads[{k!r}] with this mistake reproduces yours"))
    hypotheses = [("sum_instead_of_mean", words("sum_instead_of_mean"), {k: data * n + regular}),
                  ("regularization_gradient_missing", words("regularization_gradient_missing"), {k: data}),
                  ("sign_flip", words("sign_flip"), {k: -grads[k]})]
    (found,) = diagnose.settle([diagnose.trial(hypotheses, {k: given}, {k: grads[k]}, True)])
    assert found is not None
    return found


def check_two_layer_net(module: Any, *, seed: int = 0, require_stability: bool = False) -> CheckResult:
    """Check assignment 1's ``TwoLayerNet.loss``: scores with y=None, else the loss and every gradient in params."""
    cls = module.TwoLayerNet if isinstance(getattr(module, "TwoLayerNet", None), type) else module
    results: list[Comparison] = []
    for shape in NET_SHAPES:
        results += _net_records(cls, shape, seed)
    return settle("TwoLayerNet.loss", "CS231n two-layer net", results, seed, require_stability=require_stability)
