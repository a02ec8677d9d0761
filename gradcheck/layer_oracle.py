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


def forward(fn: Callable, inputs: tuple[np.ndarray, ...], settings: dict) -> Any:
    """``fn(*inputs, **settings)`` in float64: an array, or a tuple of arrays for a layer with several outputs."""
    out = _compiled(fn, settings, len(inputs), False)(*(np.asarray(a, np.float64) for a in inputs))
    return tuple(np.asarray(o) for o in out) if isinstance(out, tuple) else np.asarray(out)


def vjp(fn: Callable, inputs: tuple[np.ndarray, ...], settings: dict, cotangent: Any) -> tuple[np.ndarray, ...]:
    """∂⟨cotangent, fn(*inputs, **settings)⟩/∂input for every input, by ``jax.vjp`` in float64.

    ``cotangent`` is an array, or a tuple of them for a layer with several outputs.
    """
    args = tuple(np.asarray(a, np.float64) for a in inputs)
    cot = tuple(np.asarray(c, np.float64) for c in cotangent) if isinstance(cotangent, tuple) else np.asarray(cotangent, np.float64)
    return tuple(np.asarray(g) for g in _compiled(fn, settings, len(inputs), True)(*args, cot))


_PROGRAMS: dict[tuple, Callable] = {}


def _compiled(fn: Callable, settings: dict, count: int, pullback: bool) -> Callable:
    """``fn`` with its settings bound, compiled as one program: one compilation instead of one per operation.

    Programs are kept for settings that are plain values (strides, ε, flags), so a problem drawn again or a
    second case of the same layer reuses its compilation (jax compiles again only for new shapes).
    """
    try:
        key = (fn, tuple(sorted(settings.items())), count, pullback)
        hash(key)
    except TypeError:  # settings holding arrays (labels, word indices): compiled for this call only
        return _program(fn, settings, count, pullback)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = _program(fn, settings, count, pullback)
    return _PROGRAMS[key]


def _program(fn: Callable, settings: dict, count: int, pullback: bool) -> Callable:
    jax = _jax()
    bound = lambda *a: fn(*a, **settings)
    if not pullback:
        return jax.jit(bound)

    def run(*a):
        out, back = jax.vjp(bound, *a[:count])
        cot = a[count]
        return back(tuple(c.reshape(o.shape) for c, o in zip(cot, out)) if isinstance(out, tuple) else cot.reshape(out.shape))
    return jax.jit(run)


# ---------------------------------------------------------------------------
# Assignment 3: recurrent layers (rnn_layers.py)


def rnn_step(x, prev_h, Wx, Wh, b, *, carried: bool = True):
    """next_h = tanh(x Wx + prev_h Wh + b). ``carried=False`` holds prev_h constant (a hypothesis)."""
    jax = _jax()
    if not carried:
        prev_h = jax.lax.stop_gradient(prev_h)
    return _np().tanh(x @ Wx + prev_h @ Wh + b)


def rnn(x, h0, Wx, Wh, b, *, carried: bool = True):
    """The hidden states of a vanilla RNN over x (N, T, D) from h0 (N, H): h (N, T, H).

    ``carried=False`` cuts the path from each step to the next (a hypothesis: no backprop through time).
    """
    h, states = h0, []
    for t in range(x.shape[1]):
        h = rnn_step(x[:, t], h, Wx, Wh, b, carried=carried or t == 0)  # h0 always reaches the first step
        states.append(h)
    return _np().stack(states, axis=1)


def word_embedding(W, *, x):
    """out[n, t] = W[x[n, t]]: x holds integer word indices, only W is differentiated."""
    return W[x]


def temporal_affine(x, w, b):
    """out[n, t] = x[n, t] w + b for x (N, T, D)."""
    return x @ w + b


def temporal_softmax_loss(x, *, y, mask):
    """Softmax cross-entropy summed over the time steps where mask is true, averaged over N."""
    jax, jnp = _jax(), _np()
    log_probs = x - jax.scipy.special.logsumexp(x, axis=2, keepdims=True)
    picked = jnp.take_along_axis(log_probs, jnp.asarray(y)[:, :, None], axis=2)[:, :, 0]
    return -jnp.sum(jnp.where(jnp.asarray(mask), picked, 0.0)) / x.shape[0]


def _sigmoid(a):
    jnp = _np()
    e = jnp.exp(-jnp.abs(a))  # never overflows; σ(a) and 1 − σ(a) keep their digits
    return jnp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def lstm_step(x, prev_h, prev_c, Wx, Wh, b, *, cell_path: bool = True):
    """(next_h, next_c): gates i, f, o, g from a = x Wx + prev_h Wh + b split in four, in that order.

    ``cell_path=False`` holds next_c constant inside tanh(next_c) (a hypothesis: dnext_c without the path
    through next_h).
    """
    jax, jnp = _jax(), _np()
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 2 * H:3 * H]), jnp.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    shown = next_c if cell_path else jax.lax.stop_gradient(next_c)
    return o * jnp.tanh(shown), next_c


def lstm(x, h0, Wx, Wh, b):
    """The hidden states of an LSTM over x (N, T, D) from h0, with c0 = 0: h (N, T, H)."""
    h, c, states = h0, _np().zeros_like(h0), []
    for t in range(x.shape[1]):
        h, c = lstm_step(x[:, t], h, c, Wx, Wh, b)
        states.append(h)
    return _np().stack(states, axis=1)
