"""Argument checks shared by the reference network and the checker.

Every public function validates what it is given before any arithmetic, so a
user sees what was expected, what arrived and how to fix it, never a numpy
traceback from deep inside a matrix product.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class InvalidArgument(ValueError):
    """A public function was called with an argument it cannot use."""


def as_matrix(name: str, value: Any, *, allow_complex: bool = False) -> np.ndarray:
    """Return ``value`` as a finite 2-D float (or complex) array, or raise."""
    array = as_float_array(name, value, allow_complex=allow_complex)
    if array.ndim != 2:
        raise InvalidArgument(
            f"{name} must be a 2-D matrix (rows are examples or input units); "
            f"got an array of shape {array.shape}. "
            f"Reshape it, e.g. {name}.reshape(len({name}), -1)."
        )
    return array


def as_float_array(name: str, value: Any, *, allow_complex: bool = False) -> np.ndarray:
    """Return ``value`` as a finite floating (or complex) array, or raise."""
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists, objects numpy refuses
        raise InvalidArgument(
            f"{name} must be an array of numbers; numpy could not convert it ({exc})."
        ) from None
    kind = array.dtype.kind
    if kind in "iub":
        array = array.astype(np.float64)
    elif kind == "c" and not allow_complex:
        raise InvalidArgument(
            f"{name} must be real; got dtype {array.dtype}. Pass the real part if that is what you mean."
        )
    elif kind not in "fc":
        raise InvalidArgument(
            f"{name} must hold numbers (a float array); got dtype {array.dtype}."
        )
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))
        where = tuple(int(i) for i in bad[0])
        raise InvalidArgument(
            f"{name} contains {len(bad)} non-finite value(s) (NaN or inf), first at index {where}. "
            f"Gradients are only defined for finite inputs; clean or regenerate {name}."
        )
    return array


def as_labels(value: Any, *, m: int, k: int) -> np.ndarray:
    """Return integer class labels of length ``m`` in ``[0, k)`` as ``intp``, or raise.

    Any integer dtype is accepted (courses ship ``uint8``); the result is
    ``intp`` so that indexing and arithmetic never wrap around.
    """
    labels = np.asarray(value)
    if labels.ndim == 2 and labels.shape == (m, k):
        raise InvalidArgument(
            f"y must be a 1-D vector of class labels, one per row of X; got a {labels.shape} matrix, "
            "which looks one-hot. Pass y.argmax(axis=1)."
        )
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and labels.size and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
            hint = " They look like whole numbers: pass y.astype(int)."
        else:
            hint = " Labels are class indices 0..k-1, not one-hot rows or probabilities."
        raise InvalidArgument(f"y must hold integer class labels; got dtype {labels.dtype}.{hint}")
    if labels.ndim != 1:
        raise InvalidArgument(
            f"y must be a 1-D vector of class labels, one per row of X; got shape {labels.shape}."
            + (" For one-hot rows use y.argmax(axis=1)." if labels.ndim == 2 else "")
        )
    if labels.shape[0] != m:
        raise InvalidArgument(
            f"y has {labels.shape[0]} labels but X has {m} rows; they must match, one label per example."
        )
    if m and (labels.min() < 0 or labels.max() >= k):
        raise InvalidArgument(
            f"labels must lie in [0, {k}) for {k} classes (the width of the last layer); "
            f"got values from {labels.min()} to {labels.max()}."
        )
    return labels.astype(np.intp)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, or raise naming them."""
    if value not in choices:
        raise InvalidArgument(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}."
        )
    return value


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` if it is an integer ≥ 1, or raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidArgument(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def check_positive_float(name: str, value: Any) -> float:
    """Return ``value`` if it is a finite number > 0, or raise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} must be a positive number; got {value!r}.") from None
    if not np.isfinite(number) or number <= 0:
        raise InvalidArgument(f"{name} must be a positive finite number; got {value!r}.")
    return number
