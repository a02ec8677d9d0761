"""Softmax cross-entropy ℓ_ce(h, y) and its gradient ∇_h ℓ_ce = S − I_y."""

from __future__ import annotations

import numpy as np

from reference_mlp.activations import softplus
from reference_mlp.validation import as_labels, as_matrix, check_choice

REDUCTIONS = ("mean", "sum")


def logsumexp(h: np.ndarray) -> np.ndarray:
    """Row-wise (last axis) log Σ exp(h), shifted by each row's largest real part; −inf entries count as absent."""
    shift = np.max(np.real(h), axis=-1, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    return shift + np.log(np.sum(np.exp(h - shift), axis=-1, keepdims=True))


def log_softmax(h: np.ndarray) -> np.ndarray:
    """Row-wise log S, via log-sum-exp shifted by each row's largest logit."""
    return h - logsumexp(h)


def softmax(h: np.ndarray) -> np.ndarray:
    """S = normalize(exp(h)) row-wise, stable for large logits."""
    return np.exp(log_softmax(h))


def one_hot(y: np.ndarray, k: int, dtype=np.float64) -> np.ndarray:
    """I_y: row j is the unit vector of class y_j."""
    rows = np.zeros((len(y), k), dtype=dtype)
    rows[np.arange(len(y)), y] = 1
    return rows


def example_losses(h: np.ndarray, true_class: np.ndarray) -> np.ndarray:
    """−log S_y for every example: logits ``h`` (…, m, k), ``true_class`` the boolean I_y (m, k).

    Leading axes of ``h`` are kept, so a stack of perturbed logits is scored in one call.
    """
    if h.shape[-1] == 1:
        return np.zeros(h.shape[:-1], dtype=h.dtype)
    # −log S_y = log(1 + Σ_{j≠y} e^{h_j − h_y}) = softplus(log Σ_{j≠y} e^{h_j} − h_y): the
    # same number as h_y − log Σ e^{h}, but its derivatives keep their digits when S_y ≈ 1.
    others = np.where(true_class, -np.inf, h)
    h_y = np.sum(np.where(true_class, h, 0), axis=-1)
    return softplus(logsumexp(others)[..., 0] - h_y)


def reduce_losses(losses: np.ndarray, reduction: str) -> np.ndarray:
    """ℓ_ce over the batch (the last axis of ``losses``): their mean or their sum."""
    total = np.sum(losses, axis=-1)
    return total / losses.shape[-1] if reduction == "mean" else total


def softmax_cross_entropy(
    h: np.ndarray, y: np.ndarray, reduction: str = "mean"
) -> tuple[float, np.ndarray]:
    """Return ℓ_ce(h, y) and ∇_h ℓ_ce for logits ``h`` (m×k) and integer labels ``y`` (m,).

    ``reduction="mean"`` averages over the batch, as courses do, so the
    gradient is (S − I_y)/m; ``"sum"`` is the seed's form, S − I_y.
    """
    h = as_matrix("logits h", h, allow_complex=True)
    m, k = h.shape
    y = as_labels(y, m=m, k=k)
    check_choice("reduction", reduction, REDUCTIONS)
    true_class = one_hot(y, k) > 0
    value = reduce_losses(example_losses(h, true_class), reduction)
    # ∇_h ℓ_ce = S − I_y  (docs/equations.md, "Loss"); at the true class S_y − 1 is
    # written −Σ_{j≠y} S_j, which does not cancel when the prediction is confident.
    S = np.exp(log_softmax(h))
    grad = np.where(true_class, -np.sum(np.where(true_class, 0, S), axis=1, keepdims=True), S)
    return value, grad / m if reduction == "mean" else grad
