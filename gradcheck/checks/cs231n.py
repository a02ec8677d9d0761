"""The CS231n layers gradcheck knows (assignment 2's layers.py and layer_utils.py, assignment 3's rnn_layers.py): the problems each is checked on, its oracle and its mistakes.

Every layer here is a pair ``*_forward(inputs…, settings…) -> (out, cache)``
and ``*_backward(dout, cache) -> (dinputs…)`` (batch normalization has a
second backward, ``batchnorm_backward_alt``). Problems follow the handout's
shapes: N ≠ D, several channels, stride and pad combinations whose output
sizes are whole, overlapping and non-overlapping pooling windows. Values are
float32 numbers (code that casts loses nothing), and every input is drawn
clear of the layer's kinks (ReLU at 0, a max-pool window's two largest
entries), so finite differences of the student's forward never step across one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from gradcheck import equations, layer_oracle

# Finite differences move an entry by about ε^{1/5}·max(|x|, 1) ≈ 1e-3·|x| (Richardson's step): a kink
# farther than this from every input (scaled to the inputs' size, ≤ 5) is never crossed.
MARGIN = 0.05
EPS = 1e-5  # the handout's ε
MOMENTUM = 0.9  # the handout's default momentum


@dataclass(frozen=True)
class Case:
    """One problem for one layer: its differentiable inputs and the settings that follow them."""

    arrays: tuple[np.ndarray, ...]  # in the forward's order
    extra: tuple[Any, ...]  # what the forward takes after them: bn_param, conv_param, G …
    settings: dict[str, Any]  # the same settings, as the oracle's keyword arguments
    context: str
    before: tuple[Any, ...] = ()  # what the forward takes before them (word indices)


Mistakes = Callable[[Case, np.ndarray], list[tuple[str, dict[str, np.ndarray]]]]


@dataclass(frozen=True)
class Layer:
    """A forward/backward pair of the handout: names, inputs, oracle, equation, problems and mistakes."""

    name: str
    forward: str
    backwards: tuple[str, ...]
    inputs: tuple[str, ...]  # the differentiable inputs, in the forward's order
    oracle: Callable[..., Any]  # layer_oracle function of the inputs and keyword settings
    equation: equations.Equation
    draw: Callable[[np.random.Generator], list[Case]]
    mistakes: Mistakes = field(default=lambda case, dout: [])
    statistics: tuple[int, ...] | None = None  # axes of the running mean/var a train-mode forward updates
    outputs: tuple[str, ...] = ("out",)  # what the forward returns before its cache (an LSTM step: next_h, next_c)
    # inputs whose gradient is 0 by construction (a bias before batchnorm), judged to rounding on the scale of another's
    zero: dict[str, str] = field(default_factory=dict)

    @property
    def functions(self) -> tuple[str, ...]:
        """Every function of the pair, forward first."""
        return (self.forward, *self.backwards)


def f32(a: np.ndarray) -> np.ndarray:
    """float64 arrays holding float32 values."""
    return np.asarray(a).astype(np.float32).astype(np.float64)


def shape(a: np.ndarray) -> str:
    return "×".join(map(str, a.shape))


# ---------------------------------------------------------------------------
# Normalization: batch, layer, spatial batch and spatial group


def _features(rng: np.random.Generator, *dims: int, axis: int = -1, over: tuple[int, ...] = (0,)) -> np.ndarray:
    """Inputs whose features (along ``axis``) have their own means and spreads, as real activations do.

    Every group normalized together (over the axes ``over``) has a standard deviation of at least 0.3: a
    group whose values nearly coincide makes 1/σ amplify every rounding and every finite-difference step,
    an ill-conditioned problem that says nothing about the student's code.
    """
    width = dims[axis]
    view = [1] * len(dims)
    view[axis] = width
    for attempt in range(100):
        spread = rng.uniform(0.5, 3.0, width).reshape(view)
        centre = rng.uniform(-2.0, 2.0, width).reshape(view)
        x = f32(rng.standard_normal(dims) * spread + centre)
        if np.min(x.std(axis=over)) >= 0.3:
            return x
    raise RuntimeError("could not draw a well-conditioned normalization problem")


def _bn_param(rng: np.random.Generator, width: int, mode: str = "train") -> dict[str, Any]:
    return {"mode": mode, "eps": EPS, "momentum": MOMENTUM, "running_mean": f32(rng.standard_normal(width)),
            "running_var": f32(rng.uniform(0.5, 2.0, width))}


def _batchnorm_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d in ((8, 5), (4, 7)):
        x = _features(rng, n, d)
        gamma, beta = f32(rng.uniform(0.5, 2.0, d)), f32(rng.standard_normal(d))
        cases.append(Case((x, gamma, beta), (_bn_param(rng, d),), {"eps": EPS}, f"x {n}×{d}, gamma ({d},), train mode"))
    return cases


def _layernorm_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d in ((5, 6), (7, 3)):
        x = _features(rng, n, d, axis=0, over=(1,))  # layer norm normalizes each example: give examples their own scale
        gamma, beta = f32(rng.uniform(0.5, 2.0, d)), f32(rng.standard_normal(d))
        cases.append(Case((x, gamma, beta), ({"eps": EPS},), {"eps": EPS}, f"x {n}×{d}, gamma ({d},)"))
    return cases


def _spatial_batchnorm_cases(rng: np.random.Generator) -> list[Case]:
    n, c, h, w = 3, 4, 3, 2
    x = _features(rng, n, c, h, w, axis=1, over=(0, 2, 3))
    gamma, beta = f32(rng.uniform(0.5, 2.0, c)), f32(rng.standard_normal(c))
    return [Case((x, gamma, beta), (_bn_param(rng, c),), {"eps": EPS}, f"x {n}×{c}×{h}×{w}, gamma ({c},), train mode")]


def _groupnorm_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, c, h, w, g in ((2, 6, 3, 2, 3), (3, 4, 2, 2, 2)):
        x = _features(rng, n, c, h, w, axis=0, over=(1, 2, 3)).reshape(n, g, c // g, h, w)
        while np.min(x.std(axis=(2, 3, 4))) < 0.3:  # each group normalized together, well conditioned
            x = _features(rng, n, c, h, w, axis=0, over=(1, 2, 3)).reshape(n, g, c // g, h, w)
        x = x.reshape(n, c, h, w)
        gamma, beta = f32(rng.uniform(0.5, 2.0, c)), f32(rng.standard_normal(c))
        cases.append(Case((x, gamma, beta), (g, {"eps": EPS}), {"groups": g, "eps": EPS},
                          f"x {n}×{c}×{h}×{w}, G={g}, gamma ({c},)"))
    return cases


def _frozen(layer: Callable) -> Mistakes:
    """The backward with the mean and variance held constant: dx = dout·γ/√(var + ε), dγ and dβ right."""
    def mistakes(case: Case, dout: np.ndarray) -> list[tuple[str, dict[str, np.ndarray]]]:
        (dx, *_) = layer_oracle.vjp(layer, case.arrays, {**case.settings, "frozen": True}, dout)
        return [("normalization_mean_terms_missing", {"dx": dx})]
    return mistakes


NORM_EQUATION = equations.Equation("normalization VJP", "dx = γ/(N·√(var + ε))·(N·dout − Σdout − x̂·Σ(dout·x̂)), "
                                                        "dγ = Σ dout·x̂, dβ = Σ dout  (x̂ = (x − μ)/√(var + ε))")

# ---------------------------------------------------------------------------
# Convolution and pooling


def _conv_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    # (N, C, H, W), (F, HH, WW), stride, pad: pad 1 and pad 0 (where [pad:-pad] is empty), stride 1 and 2,
    # a filter wider than it is tall; every output size 1 + (H + 2·pad − HH)/stride is whole.
    for (n, c, h, w), (f, hh, ww), stride, pad in (((2, 3, 5, 5), (4, 3, 3), 1, 1), ((2, 2, 7, 7), (3, 3, 3), 2, 0),
                                                   ((1, 2, 5, 6), (2, 3, 2), 1, 0), ((2, 1, 5, 5), (2, 3, 3), 2, 1)):
        x = f32(rng.standard_normal((n, c, h, w)))
        weights = f32(0.5 * rng.standard_normal((f, c, hh, ww)))
        b = f32(rng.standard_normal(f))
        cases.append(Case((x, weights, b), ({"stride": stride, "pad": pad},), {"stride": stride, "pad": pad},
                          f"x {n}×{c}×{h}×{w}, w {f}×{c}×{hh}×{ww}, stride {stride}, pad {pad}"))
    return cases


def _conv_mistakes(case: Case, dout: np.ndarray) -> list[tuple[str, dict[str, np.ndarray]]]:
    x, w, b = case.arrays
    pad = case.settings["pad"]
    if not pad:
        return []
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    (dx_padded, *_) = layer_oracle.vjp(layer_oracle.conv, (padded, w, b), {**case.settings, "pad": 0}, dout)
    return [("conv_padding_not_removed", {"dx": dx_padded})]


def _spaced(rng: np.random.Generator, *dims: int) -> np.ndarray:
    """Distinct values MARGIN·2 apart, shuffled: no window has two maxima within a finite-difference step."""
    count = int(np.prod(dims))
    return f32((rng.permutation(count) - count / 2) * 2 * MARGIN).reshape(dims)


def _pool_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for (n, c, h, w), (ph, pw, stride) in (((2, 3, 4, 4), (2, 2, 2)), ((2, 2, 7, 7), (3, 3, 2)), ((1, 2, 5, 6), (3, 2, 1))):
        settings = {"height": ph, "width": pw, "stride": stride}
        overlap = "overlapping" if stride < max(ph, pw) else "non-overlapping"
        cases.append(Case((_spaced(rng, n, c, h, w),), ({"pool_height": ph, "pool_width": pw, "stride": stride},),
                          settings, f"x {n}×{c}×{h}×{w}, {ph}×{pw} windows, stride {stride} ({overlap})"))
    return cases


def _windows(x: np.ndarray, height: int, width: int, stride: int):
    """Every pooling window: its output position and the slices of x it covers."""
    _, _, h, w = x.shape
    for i in range(1 + (h - height) // stride):
        for j in range(1 + (w - width) // stride):
            yield i, j, slice(i * stride, i * stride + height), slice(j * stride, j * stride + width)


def _pool_mistakes(case: Case, dout: np.ndarray) -> list[tuple[str, dict[str, np.ndarray]]]:
    (x,) = case.arrays
    every, overwritten, windows = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    for i, j, rows, cols in _windows(x, **case.settings):
        window = x[:, :, rows, cols]
        every[:, :, rows, cols] += dout[:, :, i, j][:, :, None, None]
        is_max = window == window.max(axis=(2, 3), keepdims=True)
        region = overwritten[:, :, rows, cols]
        region[is_max] = np.broadcast_to(dout[:, :, i, j][:, :, None, None], window.shape)[is_max]
        windows[:, :, rows, cols] = is_max * dout[:, :, i, j][:, :, None, None]  # the whole window assigned: mask·dout
    return [("max_pool_gradient_to_every_element", {"dx": every}), ("max_pool_overlap_overwritten", {"dx": overwritten}),
            ("max_pool_overlap_overwritten", {"dx": windows})]


# ---------------------------------------------------------------------------
# layer_utils.py: the sandwich layers


def _affine_relu_cases(rng: np.random.Generator) -> list[Case]:
    for attempt in range(100):
        x, w, b = f32(rng.standard_normal((4, 2, 3))), f32(0.5 * rng.standard_normal((6, 5))), f32(rng.standard_normal(5))
        if np.min(np.abs(x.reshape(4, -1) @ w + b)) > MARGIN:
            return [Case((x, w, b), (), {}, "x 4×2×3, w 6×5, b (5,)")]
    raise RuntimeError("could not draw an affine-ReLU problem clear of ReLU's kink")


def _affine_bn_relu_cases(rng: np.random.Generator) -> list[Case]:
    for attempt in range(100):
        x, w, b = f32(rng.standard_normal((6, 4))), f32(rng.standard_normal((4, 5))), f32(rng.standard_normal(5))
        gamma, beta = f32(rng.uniform(0.5, 2.0, 5)), f32(0.5 * rng.standard_normal(5))
        a = x @ w + b
        # each feature spread out (a well-conditioned normalization), every ReLU input clear of the kink
        if np.min(a.std(axis=0)) >= 0.3 and np.min(np.abs(layer_oracle.forward(
                layer_oracle.batchnorm, (a, gamma, beta), {"eps": EPS}))) > MARGIN:
            return [Case((x, w, b, gamma, beta), (_bn_param(rng, 5),), {"eps": EPS},
                         "x 6×4, w 4×5, b (5,), gamma (5,), train mode")]
    raise RuntimeError("could not draw an affine-batchnorm-ReLU problem clear of ReLU's kink")


def affine_relu(x, w, b):
    return layer_oracle.relu(layer_oracle.affine(x, w, b))


def affine_bn_relu(x, w, b, gamma, beta, *, eps: float, frozen: bool = False):
    return layer_oracle.relu(layer_oracle.batchnorm(layer_oracle.affine(x, w, b), gamma, beta, eps=eps, frozen=frozen))


def conv_relu(x, w, b, *, stride: int, pad: int):
    return layer_oracle.relu(layer_oracle.conv(x, w, b, stride=stride, pad=pad))


def conv_relu_pool(x, w, b, *, stride: int, pad: int, height: int, width: int, pool_stride: int):
    return layer_oracle.max_pool(conv_relu(x, w, b, stride=stride, pad=pad), height=height, width=width, stride=pool_stride)


def _clear_of_kinks(out: np.ndarray, pool: tuple[int, int, int] | None) -> bool:
    """No pre-activation within MARGIN of ReLU's kink, and no pooled window with two maxima that close."""
    if np.min(np.abs(out)) <= MARGIN:
        return False
    if pool is None:
        return True
    active = np.maximum(out, 0.0)
    for _, _, rows, cols in _windows(active, *pool):
        window = np.sort(active[:, :, rows, cols].reshape(*active.shape[:2], -1), axis=-1)
        top, second = window[..., -1], window[..., -2]
        if np.any((top > 0) & (top - second <= MARGIN)):
            return False
    return True


def _conv_sandwich_cases(pool: bool) -> Callable[[np.random.Generator], list[Case]]:
    def draw(rng: np.random.Generator) -> list[Case]:
        conv_param = {"stride": 1, "pad": 1}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        for attempt in range(200):
            x = f32(rng.standard_normal((2, 3, 4, 4)))
            w, b = f32(0.5 * rng.standard_normal((3, 3, 3, 3))), f32(rng.standard_normal(3))
            pre = layer_oracle.forward(layer_oracle.conv, (x, w, b), conv_param)
            if _clear_of_kinks(pre, (2, 2, 2) if pool else None):
                settings = dict(conv_param, **({"height": 2, "width": 2, "pool_stride": 2} if pool else {}))
                return [Case((x, w, b), (conv_param, pool_param) if pool else (conv_param,), settings,
                             "x 2×3×4×4, w 3×3×3×3, stride 1, pad 1" + (", 2×2 pool, stride 2" if pool else ""))]
        raise RuntimeError("could not draw a conv-ReLU problem clear of ReLU's kink")
    return draw


# ---------------------------------------------------------------------------
# Assignment 3: rnn_layers.py


def _weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Weights of a recurrent layer, small enough that tanh and the gates stay off their flat tails."""
    return f32(rng.standard_normal(shape) / np.sqrt(shape[0]))


def _rnn_step_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = 3, 4, 5
    arrays = (f32(rng.standard_normal((n, d))), f32(rng.standard_normal((n, h))), _weights(rng, d, h),
              _weights(rng, h, h), f32(0.1 * rng.standard_normal(h)))
    return [Case(arrays, (), {}, f"x {n}×{d}, prev_h {n}×{h}, Wx {d}×{h}, Wh {h}×{h}")]


def _sequence_cases(gates: int) -> Callable[[np.random.Generator], list[Case]]:
    def draw(rng: np.random.Generator) -> list[Case]:
        n, t, d, h = 2, 3, 4, 3
        arrays = (f32(rng.standard_normal((n, t, d))), f32(rng.standard_normal((n, h))), _weights(rng, d, gates * h),
                  _weights(rng, h, gates * h), f32(0.1 * rng.standard_normal(gates * h)))
        return [Case(arrays, (), {}, f"x {n}×{t}×{d}, h0 {n}×{h}, Wx {d}×{gates * h}, Wh {h}×{gates * h}")]
    return draw


def _lstm_step_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = 3, 4, 3
    arrays = (f32(rng.standard_normal((n, d))), f32(rng.standard_normal((n, h))), f32(rng.standard_normal((n, h))),
              _weights(rng, d, 4 * h), _weights(rng, h, 4 * h), f32(0.1 * rng.standard_normal(4 * h)))
    return [Case(arrays, (), {}, f"x {n}×{d}, prev_h {n}×{h}, prev_c {n}×{h}, Wx {d}×{4 * h}, Wh {h}×{4 * h}")]


def _embedding_cases(rng: np.random.Generator) -> list[Case]:
    n, t, v, d = 2, 4, 5, 3
    words = rng.integers(0, v, (n, t))
    words[1, 2] = words[0, 1]  # a word used twice: its gradient must add up
    return [Case((f32(rng.standard_normal((v, d))),), (), {"x": words}, f"x {n}×{t} word indices (one repeated), W {v}×{d}",
                 before=(words,))]


def _temporal_affine_cases(rng: np.random.Generator) -> list[Case]:
    n, t, d, m = 2, 3, 4, 5
    arrays = (f32(rng.standard_normal((n, t, d))), f32(0.5 * rng.standard_normal((d, m))), f32(rng.standard_normal(m)))
    return [Case(arrays, (), {}, f"x {n}×{t}×{d}, w {d}×{m}, b ({m},)")]


def _variant(layer: Callable, names: tuple[str, ...], bug: str, **switches: bool) -> Mistakes:
    """The mistake ``bug`` as the oracle with its switches set (a path cut off, statistics held constant)."""
    def mistakes(case: Case, dout: Any) -> list[tuple[str, dict[str, np.ndarray]]]:
        grads = layer_oracle.vjp(layer, case.arrays, {**case.settings, **switches}, dout)
        return [(bug, {f"d{n}": g for n, g in zip(names, grads)})]
    return mistakes


def _embedding_mistakes(case: Case, dout: np.ndarray) -> list[tuple[str, dict[str, np.ndarray]]]:
    (W,) = case.arrays
    overwritten = np.zeros_like(W)
    overwritten[case.settings["x"].ravel()] = dout.reshape(-1, W.shape[1])
    return [("embedding_overwritten", {"dW": overwritten})]


RNN = equations.Equation("backprop through time", "dWx = Σₜ xₜᵀ δₜ, dWh = Σₜ hₜ₋₁ᵀ δₜ with δₜ = (dhₜ + δₜ₊₁ Whᵀ) ∘ (1 − hₜ²)")
LSTM = equations.Equation("LSTM step VJP", "dc = dnext_c + dnext_h ∘ o ∘ (1 − tanh²(next_c)); "
                                           "da = [dc∘g∘i(1−i), dc∘prev_c∘f(1−f), dnext_h∘tanh(next_c)∘o(1−o), dc∘i∘(1−g²)]")
EMBEDDING = equations.Equation("embedding VJP", "dW[v] = Σ over every (n, t) with x[n, t] = v of dout[n, t]")

AFFINE = equations.Equation("14, 15", "dx = dout wᵀ (reshaped to x), dw = xᵀ dout, db = Σ dout over the batch")
CONV = equations.Equation("14, 15 for convolution", "dx = dout ⋆ᵀ w (full correlation, padding cut off), "
                                                   "dw = x_pad ⋆ dout, db = Σ dout over N, H', W'")
POOL = equations.Equation("max-pool VJP", "each window's dout goes to its maximum entry, summed where windows overlap")
RELU = equations.Equation("14, σ' factor", "dx = relu'(a) ∘ dout, a the pre-activation")

LAYERS: tuple[Layer, ...] = (
    Layer("batchnorm", "batchnorm_forward", ("batchnorm_backward", "batchnorm_backward_alt"), ("x", "gamma", "beta"),
          layer_oracle.batchnorm, NORM_EQUATION, _batchnorm_cases, _frozen(layer_oracle.batchnorm), statistics=(0,)),
    Layer("layernorm", "layernorm_forward", ("layernorm_backward",), ("x", "gamma", "beta"), layer_oracle.layernorm,
          NORM_EQUATION, _layernorm_cases, _frozen(layer_oracle.layernorm)),
    Layer("conv", "conv_forward_naive", ("conv_backward_naive",), ("x", "w", "b"), layer_oracle.conv, CONV,
          _conv_cases, _conv_mistakes),
    Layer("max_pool", "max_pool_forward_naive", ("max_pool_backward_naive",), ("x",), layer_oracle.max_pool, POOL,
          _pool_cases, _pool_mistakes),
    Layer("spatial_batchnorm", "spatial_batchnorm_forward", ("spatial_batchnorm_backward",), ("x", "gamma", "beta"),
          layer_oracle.spatial_batchnorm, NORM_EQUATION, _spatial_batchnorm_cases,
          _frozen(layer_oracle.spatial_batchnorm), statistics=(0, 2, 3)),
    Layer("spatial_groupnorm", "spatial_groupnorm_forward", ("spatial_groupnorm_backward",), ("x", "gamma", "beta"),
          layer_oracle.spatial_groupnorm, NORM_EQUATION, _groupnorm_cases, _frozen(layer_oracle.spatial_groupnorm)),
    Layer("affine_relu", "affine_relu_forward", ("affine_relu_backward",), ("x", "w", "b"), affine_relu,
          equations.Equation("14, 15 with σ' factor", "da = relu'(a) ∘ dout, then the affine backward of da"),
          _affine_relu_cases),
    Layer("affine_bn_relu", "affine_bn_relu_forward", ("affine_bn_relu_backward",), ("x", "w", "b", "gamma", "beta"),
          affine_bn_relu, equations.Equation("14, 15 through batchnorm and σ'", "da = batchnorm VJP of relu'(·) ∘ dout, "
                                                                            "then the affine backward of da"),
          _affine_bn_relu_cases, _variant(affine_bn_relu, ("x", "w", "b", "gamma", "beta"),
                                          "normalization_mean_terms_missing", frozen=True), zero={"b": "w"}),
    Layer("conv_relu", "conv_relu_forward", ("conv_relu_backward",), ("x", "w", "b"), conv_relu, CONV,
          _conv_sandwich_cases(pool=False)),
    Layer("conv_relu_pool", "conv_relu_pool_forward", ("conv_relu_pool_backward",), ("x", "w", "b"), conv_relu_pool,
          CONV, _conv_sandwich_cases(pool=True)),
)
LAYERS += (
    Layer("rnn_step", "rnn_step_forward", ("rnn_step_backward",), ("x", "prev_h", "Wx", "Wh", "b"), layer_oracle.rnn_step,
          RNN, _rnn_step_cases, outputs=("next_h",)),
    Layer("rnn", "rnn_forward", ("rnn_backward",), ("x", "h0", "Wx", "Wh", "b"), layer_oracle.rnn, RNN,
          _sequence_cases(1), _variant(layer_oracle.rnn, ("x", "h0", "Wx", "Wh", "b"), "rnn_no_backprop_through_time", carried=False),
          outputs=("h",)),
    Layer("word_embedding", "word_embedding_forward", ("word_embedding_backward",), ("W",), layer_oracle.word_embedding,
          EMBEDDING, _embedding_cases, _embedding_mistakes),
    Layer("temporal_affine", "temporal_affine_forward", ("temporal_affine_backward",), ("x", "w", "b"),
          layer_oracle.temporal_affine, AFFINE, _temporal_affine_cases),
    Layer("lstm_step", "lstm_step_forward", ("lstm_step_backward",), ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
          layer_oracle.lstm_step, LSTM, _lstm_step_cases,
          _variant(layer_oracle.lstm_step, ("x", "prev_h", "prev_c", "Wx", "Wh", "b"), "lstm_cell_path_missing", cell_path=False),
          outputs=("next_h", "next_c")),
    Layer("lstm", "lstm_forward", ("lstm_backward",), ("x", "h0", "Wx", "Wh", "b"), layer_oracle.lstm, LSTM,
          _sequence_cases(4), outputs=("h",)),
)
BY_NAME = {layer.name: layer for layer in LAYERS}
