"""A reproducible synthetic classification set, so the reference trains with no download."""

from __future__ import annotations

import numpy as np

from reference_mlp.validation import InvalidArgument, check_positive_int


def spirals(
    n_per_class: int = 100, classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Return X (m×2, float64) and y (m,, uint8): ``classes`` interleaved spiral arms.

    The arms are not linearly separable, so softmax regression plateaus while
    a hidden layer keeps improving: the seed's argument for learned features.
    """
    n_per_class = check_positive_int("n_per_class", n_per_class)
    classes = check_positive_int("classes", classes)
    if classes > 255:
        raise InvalidArgument(f"classes must be at most 255 (labels are uint8); got {classes}.")
    if not (isinstance(noise, (int, float)) and 0 <= noise < np.inf):
        raise InvalidArgument(f"noise must be a finite number ≥ 0; got {noise!r}.")
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.05, 1.0, n_per_class), classes)
    label = np.repeat(np.arange(classes), n_per_class)
    angle = (
        label * 2 * np.pi / classes
        + radius * 4.0
        + rng.standard_normal(radius.shape) * noise
    )
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    order = rng.permutation(len(label))
    return X[order], label[order].astype(np.uint8)
