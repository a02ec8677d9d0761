"""The JAX oracle: the same network and loss in ``jax.numpy``, differentiated by JAX in float64.

This witness shares no code with the reference: its activations and loss are
written again here, and its gradients come from ``jax.vjp``, not from any
equation. JAX is imported on first use, never by ``import gradcheck``, and each
(architecture, reduction, batch size) is compiled once and cached.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from reference_mlp import mlp
from reference_mlp.mlp import Architecture, Gradients, Params
from reference_mlp.validation import check_choice


@functools.lru_cache(maxsize=None)
def _jax() -> Any:
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_activation(label: str) -> Callable[[Any], Any]:
    jnp = _jax().numpy
    name, _, slope = label.partition(":")

    def sigmoid(a):
        # Written so that autodiff never forms 1 − σ: JAX's own σ' = σ(1 − σ)
        # loses every digit where σ saturates, e^{−|a|} keeps them.
        e = jnp.exp(jnp.where(a >= 0, -a, a))
        return jnp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    table = {
        "identity": lambda a: a,
        "relu": lambda a: jnp.where(a > 0, a, 0.0),
        "leaky_relu": lambda a: jnp.where(a > 0, a, float(slope or 0.01) * a),
        "sigmoid": sigmoid,
        "tanh": lambda a: 2.0 * sigmoid(2.0 * a) - 1.0,  # tanh' = 4σ'(2a), accurate where tanh saturates
        "softplus": lambda a: jnp.logaddexp(a, 0.0),
        # ½a(1 + tanh u) = a·σ(2u): the tanh form, accurate in the negative tail
        "gelu": lambda a: a * sigmoid(2.0 * jnp.sqrt(2.0 / jnp.pi) * (a + 0.044715 * a**3)),
    }
    return table[name]


def _loss_function(labels: tuple[str, ...], bias: tuple[bool, ...], reduction: str, inner: bool = True) -> Callable:
    jax, jnp = _jax(), _jax().numpy
    sigmas = [_jax_activation(label) for label in labels]

    def loss(Ws, bs, X, shifts, y):
        # `shifts` are zeros added to Z₂..Z_{L+1}: ∂ℓ/∂shiftᵢ is exactly Gᵢ.
        Z = X
        for W, b, has_bias, sigma, shift in zip(Ws, bs, bias, sigmas, shifts):
            Z = sigma(Z @ W + b if has_bias else Z @ W) + shift
        return _cross_entropy(Z, y, reduction)

    def value_and_vjp(Ws, bs, X, shifts, y):
        if not inner:  # the parameters only: no ∂ℓ/∂X, no Gᵢ
            value, pullback = jax.vjp(lambda Ws, bs: loss(Ws, bs, X, shifts, y), Ws, bs)
            return value, pullback(jnp.ones_like(value)) + (None, None)
        value, pullback = jax.vjp(lambda *args: loss(*args, y), Ws, bs, X, shifts)
        return value, pullback(jnp.ones_like(value))

    return jax.jit(value_and_vjp)


def _cross_entropy(h: Any, y: Any, reduction: str) -> Any:
    """ℓ_ce written as softplus(log Σ_{j≠y} e^{h_j} − h_y) per example, so that autodiff
    never forms S_y − 1, which cancels to nothing when the prediction is confident."""
    jax, jnp = _jax(), _jax().numpy
    k = h.shape[1]
    if k == 1:
        losses = jnp.zeros(h.shape[0]) * h[:, 0]
    else:
        true_class = y[:, None] == jnp.arange(k)[None, :]
        h_y = jnp.sum(jnp.where(true_class, h, 0.0), axis=1)
        others = jax.nn.logsumexp(jnp.where(true_class, -jnp.inf, h), axis=1)
        losses = jnp.logaddexp(others - h_y, 0.0)
    return jnp.sum(losses) if reduction == "sum" else jnp.mean(losses)


@functools.lru_cache(maxsize=512)
def _compiled(key: tuple) -> Any:
    labels, bias, reduction, widths, m, inner = key
    dtype = np.float64
    args = (
        [np.zeros((a, b), dtype) for a, b in zip(widths, widths[1:])],
        [np.zeros(b, dtype) for b in widths[1:]],
        np.zeros((m, widths[0]), dtype),
        [np.zeros((m, b), dtype) for b in widths[1:]],
        np.zeros(m, np.int64),
    )
    return _loss_function(labels, bias, reduction, inner).lower(*args).compile()


def cache_info() -> Any:
    """How many compiled oracles exist and how often one was reused (``functools`` cache info)."""
    return _compiled.cache_info()


def gradients(
    arch: Architecture, params: Params, X: np.ndarray, y: np.ndarray, reduction: str = "mean", *, inner: bool = True
) -> Gradients:
    """Every gradient of ℓ_ce(h_θ(X), y) by JAX autodiff, always in float64: the oracle is the truth.

    ``inner=False`` computes the parameter gradients only (``G`` is then
    empty), which spares the products that Gᵢ and ∂ℓ/∂X need.
    """
    check_choice("reduction", reduction, ("mean", "sum"))
    X, y = mlp.check_batch(arch, X, y)
    params = mlp.check_params(arch, params)
    dtype = np.float64
    labels = tuple(a.label for a in arch.activations)
    key = (labels, arch.bias, reduction, arch.widths, X.shape[0], inner)
    compiled = _compiled(key)
    Ws = [np.asarray(W, dtype) for W in params.W]
    bs = [np.zeros(n, dtype) if b is None else np.asarray(b, dtype) for b, n in zip(params.b, arch.widths[1:])]
    shifts = [np.zeros((X.shape[0], n), dtype) for n in arch.widths[1:]]
    value, (dW, db, dX, dshift) = compiled(Ws, bs, np.asarray(X, dtype), shifts, y.astype(np.int64))
    return Gradients(
        dW=tuple(np.asarray(g) for g in dW),
        db=tuple(None if b is None else np.asarray(g) for b, g in zip(params.b, db)),
        G=(np.asarray(dX),) + tuple(np.asarray(g) for g in dshift) if inner else (),
        loss=float(value),
    )


def layer_vjp(layer: str, inputs: tuple[np.ndarray, ...], cotangent: np.ndarray) -> tuple[np.ndarray, ...]:
    """∂⟨cotangent, layer(inputs)⟩/∂inputs by ``jax.vjp`` in float64.

    ``layer`` is ``"affine"`` (x, w, b ↦ xw + b) or an activation name (x ↦ σ(x)).
    """
    jax = _jax()
    if layer == "affine":
        def fn(x, w, b):
            return x @ w + b
    else:
        fn = _jax_activation(layer)
    args = tuple(np.asarray(a, np.float64) for a in inputs)
    _, pullback = jax.vjp(fn, *args)
    return tuple(np.asarray(g) for g in pullback(np.asarray(cotangent, np.float64)))


def softmax_loss_gradient(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean softmax cross-entropy of ``logits`` and its gradient, by ``jax.value_and_grad``."""
    jax = _jax()
    labels = np.asarray(y, np.int64)
    value, grad = jax.value_and_grad(lambda h: _cross_entropy(h, labels, "mean"))(np.asarray(logits, np.float64))
    return float(value), np.asarray(grad)
