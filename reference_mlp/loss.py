"""Softmax cross-entropy ℓ_ce(h, y) and its gradient ∇_h ℓ_ce = S − I_y."""

from __future__ import annotations

import numpy as np

from reference_mlp.validation import as_labels, as_matrix, check_choice

REDUCTIONS = ("mean", "sum")


def log_softmax(h: np.ndarray) -> np.ndarray:
    """Row-wise log S, via log-sum-exp shifted by each row's largest logit."""
    shift = np.max(np.real(h), axis=1, keepdims=True)
    shifted = h - shift
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def softmax(h: np.ndarray) -> np.ndarray:
    """S = normalize(exp(h)) row-wise, stable for large logits."""
    return np.exp(log_softmax(h))


def one_hot(y: np.ndarray, k: int, dtype=np.float64) -> np.ndarray:
    """I_y: row j is the unit vector of class y_j."""
    rows = np.zeros((len(y), k), dtype=dtype)
    rows[np.arange(len(y)), y] = 1
    return rows


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
    log_s = log_softmax(h)
    losses = -log_s[np.arange(m), y]
    # ∇_h ℓ_ce = S − I_y  (docs/equations.md, "Loss")
    grad = np.exp(log_s) - one_hot(y, k, dtype=log_s.dtype)
    if reduction == "mean":
        return np.sum(losses) / m, grad / m
    return np.sum(losses), grad
