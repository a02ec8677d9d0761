"""The JAX oracle of CS231n's layers: each forward written again in ``jax.numpy`` / ``jax.lax``, float64.

A layer's backward must return the vector-Jacobian product of its forward:
for upstream ``dout``, ∂⟨dout, forward(inputs)⟩/∂input for every input. Here
each forward is written from the handout's definition alone, sharing no code
with the reference network or with the student's file, and its VJP comes from
``jax.vjp``. Convolution is ``lax.conv_general_dilated`` (cross-correlation,
as the handout defines it) and max pooling ``lax.reduce_window``, so neither
shares a loop with a naive implementation.

Settings that are not differentiated (stride, pad, eps, a dropout mask, the
number of groups) are keyword arguments; the differentiable inputs are
positional, in the order the student's forward takes them.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gradcheck.oracle import _jax


def _np() -> Any:
    return _jax().numpy


def affine(x, w, b):
    """out = x.reshape(N, D) w + b: x of shape (N, d₁, …, d_k)."""
    return x.reshape(x.shape[0], -1) @ w + b


def relu(x):
    return _np().maximum(x, 0.0)


def normalize(x, axes: tuple[int, ...], eps: float, frozen: bool = False):
    """(x − mean) / √(var + ε) over ``axes``, var the biased (1/N) variance as the handout computes it.

    ``frozen`` holds the mean and variance constant under differentiation: the backward of a student who
    forgot the paths through them (a diagnosis's hypothesis, never the truth).
    """
    jax, jnp = _jax(), _np()
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean((x - mean) ** 2, axis=axes, keepdims=True)
    if frozen:
        mean, var = jax.lax.stop_gradient(mean), jax.lax.stop_gradient(var)
    return (x - mean) / jnp.sqrt(var + eps)


def batchnorm(x, gamma, beta, *, eps: float, frozen: bool = False):
    """Training-mode batch normalization: per feature, over the batch."""
    return gamma * normalize(x, (0,), eps, frozen) + beta


def batchnorm_test(x, gamma, beta, *, mean, var, eps: float):
    """Test-mode batch normalization: with the running statistics, √(running_var + ε)."""
    return gamma * (x - mean) / _np().sqrt(var + eps) + beta


def layernorm(x, gamma, beta, *, eps: float, frozen: bool = False):
    """Layer normalization: per example, over its features."""
    return gamma * normalize(x, (1,), eps, frozen) + beta


def dropout(x, *, mask, keep: float):
    """Inverted dropout with a given mask: x·mask/keep in training (the mask is the student's own draw)."""
    return x * mask / keep


def conv(x, w, b, *, stride: int, pad: int):
    """x (N, C, H, W) ⋆ w (F, C, HH, WW) + b (F,), zero-padded by ``pad``, stepping ``stride``."""
    lax = _jax().lax
    out = lax.conv_general_dilated(x, w, (stride, stride), [(pad, pad), (pad, pad)],
                                   dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                   precision=lax.Precision.HIGHEST)
    return out + b[None, :, None, None]


def max_pool(x, *, height: int, width: int, stride: int):
    """The maximum over each (height × width) window of x (N, C, H, W), windows ``stride`` apart."""
    lax = _jax().lax
    return lax.reduce_window(x, -np.inf, lax.max, (1, 1, height, width), (1, 1, stride, stride), "VALID")


def spatial_batchnorm(x, gamma, beta, *, eps: float, frozen: bool = False):
    """Batch normalization per channel of x (N, C, H, W), over N, H and W."""
    return gamma[None, :, None, None] * normalize(x, (0, 2, 3), eps, frozen) + beta[None, :, None, None]


def spatial_groupnorm(x, gamma, beta, *, groups: int, eps: float, frozen: bool = False):
    """Group normalization of x (N, C, H, W): per example, over each group of C/G channels and H, W.

    gamma and beta have shape (C,) or (1, C, 1, 1); the output's scale is gamma of C channels either way.
    """
    N, C, H, W = x.shape
    grouped = normalize(x.reshape(N, groups, C // groups, H, W), (2, 3, 4), eps, frozen).reshape(N, C, H, W)
    return gamma.reshape(1, C, 1, 1) * grouped + beta.reshape(1, C, 1, 1)


def svm_loss(x, *, y):
    """The multiclass hinge loss, mean over the batch: Σ_{j≠yᵢ} max(0, x_ij − x_iyᵢ + 1)."""
    jnp = _np()
    rows = jnp.arange(x.shape[0])
    margins = jnp.maximum(0.0, x - x[rows, y][:, None] + 1.0)
    others = jnp.arange(x.shape[1])[None, :] != jnp.asarray(y)[:, None]
    return jnp.sum(jnp.where(others, margins, 0.0)) / x.shape[0]


def forward(fn: Callable, inputs: tuple[np.ndarray, ...], settings: dict) -> np.ndarray:
    """``fn(*inputs, **settings)`` in float64, as a numpy array."""
    return _compiled(fn, settings, len(inputs), False)(*(np.asarray(a, np.float64) for a in inputs))


def vjp(fn: Callable, inputs: tuple[np.ndarray, ...], settings: dict, cotangent: np.ndarray) -> tuple[np.ndarray, ...]:
    """∂⟨cotangent, fn(*inputs, **settings)⟩/∂input for every input, by ``jax.vjp`` in float64."""
    args = tuple(np.asarray(a, np.float64) for a in inputs)
    return tuple(np.asarray(g) for g in _compiled(fn, settings, len(inputs), True)(*args, np.asarray(cotangent, np.float64)))


def _compiled(fn: Callable, settings: dict, count: int, pullback: bool) -> Callable:
    """``fn`` with its settings bound, compiled as one program: one compilation instead of one per operation."""
    jax = _jax()
    bound = lambda *a: fn(*a, **settings)
    if not pullback:
        return lambda *a: np.asarray(jax.jit(bound)(*a))
    def run(*a):
        out, back = jax.vjp(bound, *a[:count])
        return back(a[count].reshape(out.shape))
    return jax.jit(run)
