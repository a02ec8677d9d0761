"""Minibatch SGD: θ ← θ − lr·∇θ ℓ_ce, one batch at a time, in the shape courses use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_mlp import mlp
from reference_mlp.mlp import Architecture, Params
from reference_mlp.validation import check_choice, check_positive_float, check_positive_int


def sgd_step(arch: Architecture, params: Params, X: np.ndarray, y: np.ndarray, lr: float, reduction: str = "mean") -> Params:
    """Return θ − lr·∇θ ℓ_ce(h_θ(X), y); ``params`` is left untouched."""
    lr = check_positive_float("lr", lr)
    grads = mlp.gradients(arch, params, X, y, reduction)
    return Params(
        tuple(W - lr * dW for W, dW in zip(params.W, grads.dW)),
        tuple(None if b is None else b - lr * db for b, db in zip(params.b, grads.db)),
    )


def sgd_epoch(
    arch: Architecture,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    lr: float = 0.1,
    batch: int = 100,
    reduction: str = "mean",
) -> Params:
    """One pass over X in order, in batches of ``batch`` rows (the last may be smaller).

    Like a course's ``nn_epoch``, but returns new parameters instead of
    updating them in place, so a checker can compare before and after.
    """
    lr = check_positive_float("lr", lr)
    batch = check_positive_int("batch", batch)
    check_choice("reduction", reduction, ("mean", "sum"))
    X, y = mlp.check_batch(arch, X, y)
    for start in range(0, len(X), batch):
        params = sgd_step(arch, params, X[start : start + batch], y[start : start + batch], lr, reduction)
    return params


@dataclass(frozen=True)
class History:
    """Parameters after training, with the full-data loss and accuracy before each epoch and at the end."""

    params: Params
    losses: tuple[float, ...]
    accuracies: tuple[float, ...]


def accuracy(arch: Architecture, params: Params, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose largest logit is the true class."""
    return float(np.mean(mlp.forward(arch, params, X).Z[-1].argmax(axis=1) == y))


def train(
    arch: Architecture,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 20,
    lr: float = 0.1,
    batch: int = 100,
    seed: int = 0,
) -> History:
    """Initialise from ``seed`` and run ``epochs`` SGD epochs, reshuffling each epoch."""
    epochs = check_positive_int("epochs", epochs)
    X, y = mlp.check_batch(arch, X, y)
    rng = np.random.default_rng(seed)
    params = mlp.init_params(arch, rng)
    losses, accs = [], []
    for _ in range(epochs):
        losses.append(mlp.loss(arch, params, X, y))
        accs.append(accuracy(arch, params, X, y))
        order = rng.permutation(len(X))
        params = sgd_epoch(arch, params, X[order], y[order], lr=lr, batch=batch)
    losses.append(mlp.loss(arch, params, X, y))
    accs.append(accuracy(arch, params, X, y))
    return History(params, tuple(losses), tuple(accs))
