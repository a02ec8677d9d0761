"""An L-layer MLP in batch-matrix form with manual backprop (Eqs. 10–15).

Rows are examples: X ∈ R^{m×n₁}, Wᵢ ∈ R^{nᵢ×n_{i+1}}, optional bᵢ ∈ R^{n_{i+1}}.
Forward (Eq. 12): Z₁ = X, Z_{i+1} = σᵢ(ZᵢWᵢ + bᵢ).
Backward: G_{L+1} = S − I_y (divided by m for the mean), then Eqs. 14 and 15.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from reference_mlp import activations as act
from reference_mlp.activations import Activation
from reference_mlp.loss import REDUCTIONS, softmax_cross_entropy
from reference_mlp.validation import (
    InvalidArgument,
    as_float_array,
    as_labels,
    as_matrix,
    check_choice,
    check_positive_int,
)


@dataclass(frozen=True)
class Architecture:
    """Widths n₁..n_{L+1}, one activation σᵢ and one bias flag per layer."""

    widths: tuple[int, ...]
    activations: tuple[Activation, ...]
    bias: tuple[bool, ...]

    @classmethod
    def build(
        cls,
        widths: Sequence[int],
        hidden: str | Activation | Sequence[str | Activation] = "relu",
        output: str | Activation = "identity",
        bias: bool | Sequence[bool] = False,
    ) -> "Architecture":
        """Make an architecture: ``hidden`` for layers 1..L−1, ``output`` for layer L.

        ``hidden`` may also list one activation per hidden layer; ``bias`` may be
        one flag for every layer or one per layer.
        """
        if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
            raise InvalidArgument(
                f"widths must be a sequence of layer sizes n₁..n_{{L+1}}, e.g. (784, 128, 10); got {widths!r}."
            )
        widths = tuple(check_positive_int(f"widths[{i}]", w) for i, w in enumerate(widths))
        if len(widths) < 2:
            raise InvalidArgument(
                f"an MLP needs at least an input and an output width (depth L ≥ 1); got widths {widths}."
            )
        depth = len(widths) - 1
        if isinstance(hidden, (str, Activation)):
            hidden_list = [act.get(hidden)] * (depth - 1)
        else:
            hidden_list = [act.get(h) for h in hidden]
            if len(hidden_list) != depth - 1:
                raise InvalidArgument(
                    f"{depth} layers have {depth - 1} hidden activation(s); got {len(hidden_list)}: {list(hidden)!r}."
                )
        if isinstance(bias, (bool, np.bool_)):
            flags = (bool(bias),) * depth
        elif isinstance(bias, Sequence) and not isinstance(bias, str) and all(isinstance(b, (bool, np.bool_)) for b in bias):
            flags = tuple(bool(b) for b in bias)
        else:
            raise InvalidArgument(
                f"bias must be True, False or one such flag per layer, e.g. (True, False); got {bias!r}."
            )
        if len(flags) != depth:
            raise InvalidArgument(f"{depth} layers need {depth} bias flags; got {len(flags)}.")
        return cls(widths, tuple(hidden_list) + (act.get(output),), flags)

    @property
    def depth(self) -> int:
        """L, the number of weight matrices."""
        return len(self.widths) - 1

    @property
    def n_params(self) -> int:
        """Number of scalar parameters, weights and biases."""
        return sum(
            n_in * n_out + (n_out if b else 0)
            for n_in, n_out, b in zip(self.widths, self.widths[1:], self.bias)
        )

    def describe(self) -> str:
        """One line such as ``4-6-3 tanh bias`` for tables and messages."""
        hidden = [a.label for a in self.activations[:-1]]
        names = sorted(set(hidden), key=hidden.index)
        parts = ["-".join(str(w) for w in self.widths), "/".join(names) or "linear"]
        if self.activations[-1].name != "identity":
            parts.append(f"out={self.activations[-1].label}")
        if any(self.bias):
            parts.append("bias" if all(self.bias) else "bias" + "".join("1" if b else "0" for b in self.bias))
        return " ".join(parts)


@dataclass(frozen=True)
class Params:
    """θ = {W₁..W_L} and the biases b₁..b_L (``None`` where a layer has none)."""

    W: tuple[np.ndarray, ...]
    b: tuple[np.ndarray | None, ...]

    def tensors(self) -> dict[str, np.ndarray]:
        """Every parameter by its name in messages: ``W1``, ``b1``, ``W2``, …"""
        named = {}
        for i, (W, b) in enumerate(zip(self.W, self.b), start=1):
            named[f"W{i}"] = W
            if b is not None:
                named[f"b{i}"] = b
        return named

    def replace(self, name: str, value: np.ndarray) -> "Params":
        """A copy with the tensor called ``name`` (``W2``, ``b1``) swapped for ``value``."""
        kind, index = name[0], int(name[1:]) - 1
        if kind == "W":
            return Params(self.W[:index] + (value,) + self.W[index + 1 :], self.b)
        return Params(self.W, self.b[:index] + (value,) + self.b[index + 1 :])


@dataclass(frozen=True)
class Cache:
    """What the forward pass keeps: Z₁..Z_{L+1} and the pre-activations A₁..A_L."""

    Z: tuple[np.ndarray, ...]
    A: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Gradients:
    """∇Wᵢ, ∇bᵢ (``None`` without bias) and Gᵢ = ∂ℓ/∂Zᵢ for i = 1..L+1."""

    dW: tuple[np.ndarray, ...]
    db: tuple[np.ndarray | None, ...]
    G: tuple[np.ndarray, ...]
    loss: float

    def tensors(self) -> dict[str, np.ndarray]:
        """The parameter gradients named like :meth:`Params.tensors`."""
        return Params(self.dW, self.db).tensors()


def init_params(arch: Architecture, rng: np.random.Generator, scale: float = 1.0, dtype=np.float64) -> Params:
    """Draw Wᵢ ~ N(0, scale²/nᵢ) (Xavier-like) and bᵢ ~ N(0, 0.1²·scale²)."""
    W = tuple(
        (rng.standard_normal((n_in, n_out)) * scale / np.sqrt(n_in)).astype(dtype)
        for n_in, n_out in zip(arch.widths, arch.widths[1:])
    )
    b = tuple(
        (rng.standard_normal(n_out) * 0.1 * scale).astype(dtype) if has else None
        for n_out, has in zip(arch.widths[1:], arch.bias)
    )
    return Params(W, b)


def check_params(arch: Architecture, params: Params, *, allow_complex: bool = False) -> Params:
    """Return ``params`` as arrays if their shapes fit ``arch``, or raise naming the mismatch."""
    if not isinstance(params, Params):
        raise InvalidArgument(f"params must be a reference_mlp.Params; got {type(params).__name__}.")
    if len(params.W) != arch.depth or len(params.b) != arch.depth:
        raise InvalidArgument(
            f"the architecture has L = {arch.depth} layers but params hold {len(params.W)} weight matrices "
            f"and {len(params.b)} bias entries."
        )
    W, b = [], []
    for i, (n_in, n_out) in enumerate(zip(arch.widths, arch.widths[1:]), start=1):
        Wi = as_matrix(f"W{i}", params.W[i - 1], allow_complex=allow_complex)
        if Wi.shape != (n_in, n_out):
            raise InvalidArgument(
                f"W{i} must have shape (n{i}, n{i + 1}) = {(n_in, n_out)}; got {Wi.shape}."
                + (" It looks transposed." if Wi.shape == (n_out, n_in) else "")
            )
        W.append(Wi)
        bi = params.b[i - 1]
        if arch.bias[i - 1] != (bi is not None):
            state = "has" if arch.bias[i - 1] else "has no"
            raise InvalidArgument(f"layer {i} {state} bias in the architecture, but b{i} is {'missing' if bi is None else 'given'}.")
        if bi is not None:
            bi = as_float_array(f"b{i}", bi, allow_complex=allow_complex)
            if bi.shape != (n_out,):
                raise InvalidArgument(f"b{i} must have shape ({n_out},); got {bi.shape}.")
        b.append(bi)
    return Params(tuple(W), tuple(b))


def forward(arch: Architecture, params: Params, X: np.ndarray) -> Cache:
    """Run Eq. 12 and keep every Zᵢ and pre-activation Aᵢ = ZᵢWᵢ + bᵢ."""
    return propagate(arch, params, X, start=1)


def propagate(arch: Architecture, params: Params, Z: np.ndarray, start: int) -> Cache:
    """Run Eq. 12 from layer ``start`` (1-based) on, given Z_start; keep what it computes.

    ``Z`` may carry leading axes (a stack of batches): every layer broadcasts over them.
    """
    Zs, As = [Z], []
    for W, b, sigma in zip(params.W[start - 1 :], params.b[start - 1 :], arch.activations[start - 1 :]):
        a = Zs[-1] @ W if b is None else Zs[-1] @ W + b
        As.append(a)
        Zs.append(sigma(a))  # Eq. 12: Z_{i+1} = σᵢ(ZᵢWᵢ + bᵢ)
    return Cache(tuple(Zs), tuple(As))


def backward(
    arch: Architecture, params: Params, cache: Cache, y: np.ndarray, reduction: str = "mean", *, input_gradient: bool = True,
    slopes: Sequence[np.ndarray | None] | None = None,
) -> Gradients:
    """Backpropagate ℓ_ce(Z_{L+1}, y) through the cached forward pass by Eqs. 14 and 15.

    ``input_gradient=False`` stops before G₁ = ∂ℓ/∂X (left ``None``), which no parameter needs.
    ``slopes[i]``, where given, replaces σᵢ'(ZᵢWᵢ): another valid choice of σ' at a kink.
    """
    loss, G_next = softmax_cross_entropy(cache.Z[-1], y, reduction)  # G_{L+1} = S − I_y (÷ m)
    dW, db, G = [], [], [G_next]
    for i in reversed(range(arch.depth)):
        slope = arch.activations[i].derivative(cache.A[i]) if slopes is None or slopes[i] is None else slopes[i]
        delta = G_next * slope  # G_{i+1} ∘ σᵢ'(ZᵢWᵢ)
        dW.append(cache.Z[i].T @ delta)  # Eq. 15: ∇Wᵢ = Zᵢᵀ (G_{i+1} ∘ σᵢ'(ZᵢWᵢ))
        db.append(delta.sum(axis=0) if params.b[i] is not None else None)  # ∇bᵢ = 1ᵀ(G_{i+1} ∘ σᵢ')
        G_next = delta @ params.W[i].T if i or input_gradient else None  # Eq. 14: Gᵢ = (G_{i+1} ∘ σᵢ'(ZᵢWᵢ)) Wᵢᵀ
        G.append(G_next)
    return Gradients(tuple(reversed(dW)), tuple(reversed(db)), tuple(reversed(G)), loss)


def check_batch(arch: Architecture, X: np.ndarray, y: np.ndarray, *, allow_complex: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return X and y validated against the architecture's input and output widths."""
    X = as_matrix("X", X, allow_complex=allow_complex)
    if X.shape[1] != arch.widths[0]:
        raise InvalidArgument(
            f"X has {X.shape[1]} columns but the first layer expects n₁ = {arch.widths[0]} inputs "
            f"(X is m×n₁ with one example per row); got X of shape {X.shape}."
        )
    return X, as_labels(y, m=X.shape[0], k=arch.widths[-1])


def loss(arch: Architecture, params: Params, X: np.ndarray, y: np.ndarray, reduction: str = "mean") -> float:
    """ℓ_ce(h_θ(X), y): the forward pass followed by softmax cross-entropy.

    Complex X or parameters are accepted, so the complex-step witness can
    differentiate it.
    """
    X, y = check_batch(arch, X, y, allow_complex=True)
    params = check_params(arch, params, allow_complex=True)
    return softmax_cross_entropy(forward(arch, params, X).Z[-1], y, reduction)[0]


def gradients(arch: Architecture, params: Params, X: np.ndarray, y: np.ndarray, reduction: str = "mean") -> Gradients:
    """Validate, run forward and backward, and return every gradient with the loss."""
    check_choice("reduction", reduction, REDUCTIONS)
    X, y = check_batch(arch, X, y)
    params = check_params(arch, params)
    return backward(arch, params, forward(arch, params, X), y, reduction)


def kink_pieces(arch: Architecture, params: Params, X: np.ndarray) -> np.ndarray:
    """Which smooth piece every pre-activation of a kinked σ lies on, flattened.

    Two parameter values give the same result exactly when the network is one
    smooth function between them; finite differences are meaningful only then.
    """
    cache = forward(arch, params, X)
    pieces = [sigma.piece(a).ravel() for sigma, a in zip(arch.activations, cache.A) if sigma.kinks]
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int8)


def two_layer_gradients(
    X: np.ndarray,
    y: np.ndarray,
    W1: np.ndarray,
    W2: np.ndarray,
    activation: str | Activation = "relu",
    reduction: str = "mean",
) -> tuple[np.ndarray, np.ndarray]:
    """∇W₁ and ∇W₂ of ℓ_ce(σ(XW₁)W₂, y), written literally as Eqs. 10 and 11."""
    sigma = act.get(activation)
    W1, W2 = as_matrix("W1", W1), as_matrix("W2", W2)
    arch = Architecture.build((W1.shape[0], W1.shape[1], W2.shape[1]), hidden=sigma)
    X, y = check_batch(arch, X, y)
    W1, W2 = check_params(arch, Params((W1, W2), (None, None))).W
    _, S_minus_I = softmax_cross_entropy(sigma(X @ W1) @ W2, y, reduction)  # S − I_y (÷ m)
    dW2 = sigma(X @ W1).T @ S_minus_I  # Eq. 10: ∇W₂ = σ(XW₁)ᵀ (S − I_y)
    dW1 = X.T @ ((S_minus_I @ W2.T) * sigma.derivative(X @ W1))  # Eq. 11: ∇W₁ = Xᵀ((S − I_y)W₂ᵀ ∘ σ'(XW₁))
    return dW1, dW2
