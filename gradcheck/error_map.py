"""Where a tensor's entries disagree: the picture of one comparison, small enough to keep in its record.

A wrong gradient's errors have a shape: one row (a sample's contribution
dropped), one column (a unit's), a block (one layer's slice), the whole tensor
in proportion to its values (a sign flip, a missing 1/m). ``ErrorMap`` keeps
that shape at a bounded size:

- ``cells``: each entry's error as a multiple of the error it was allowed,
  |a − b| / allowed (above 1 is a mismatch), as log₁₀, max-pooled over blocks
  of entries so that no side exceeds ``MAX_SIDE`` cells. A block where no
  entry could be judged is None.
- ``pairs``: (expected, actual, wrong) for a sample of entries, the worst
  first: a sign flip shows as actual = −expected, a scale error as a line of
  another slope, and wrong entries are marked even where the error is small.

Rows and columns are the tensor's own for a vector or a matrix; a tensor of
more dimensions keeps its last as columns and stacks the others as rows,
except conv weights (F, C, H, W), which become F tiles of H × W (the worst over
the C channels), one per filter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_SIDE = 128  # cells along each side of the map (pooled beyond)
MAX_PAIRS = 256  # (expected, actual) pairs kept
LOG_RANGE = (-4.0, 12.0)  # log₁₀ of error/allowed kept in cells: 1e-4 of the allowance up to 1e12 times it


@dataclass(frozen=True)
class ErrorMap:
    """The worst error per block of entries (log₁₀ of error/allowed), and a sample of both witnesses' values."""

    cells: tuple[tuple[float | None, ...], ...]  # rows of log₁₀(error / allowed), None where nothing was judged
    block: tuple[int, int]  # entries of the (laid-out) tensor per cell: rows, columns
    shape: tuple[int, int]  # the laid-out tensor: rows, columns (before pooling)
    tiles: int = 1  # conv filters: the rows are this many tiles of shape[0] // tiles rows each
    pairs: tuple[tuple[float, float, bool], ...] = ()  # (expected, actual, wrong), the worst entries first

    @property
    def worst(self) -> float | None:
        """The largest log₁₀(error / allowed) of any cell, or None if nothing was judged."""
        values = [v for row in self.cells for v in row if v is not None]
        return max(values) if values else None

    def to_dict(self) -> dict:
        """Plain JSON-ready data (see docs/report.schema.json)."""
        return {"cells": [list(row) for row in self.cells], "block": list(self.block), "shape": list(self.shape),
                "tiles": self.tiles, "pairs": [list(p) for p in self.pairs]}


def _as_matrix(logs: np.ndarray) -> tuple[np.ndarray, int]:
    """``logs`` laid out as rows × columns, and how many tiles of rows it holds (conv filters: F)."""
    if logs.ndim == 1:
        return logs.reshape(1, -1), 1
    if logs.ndim == 4 and logs.shape[2] * logs.shape[3] > 1:  # conv weights (F, C, H, W): the worst over C
        judged = ~np.all(np.isnan(logs), axis=1)
        worst = np.where(judged, np.max(np.where(np.isnan(logs), -np.inf, logs), axis=1), np.nan)
        return worst.reshape(logs.shape[0] * logs.shape[2], logs.shape[3]), logs.shape[0]
    return logs.reshape(-1, logs.shape[-1]), 1


def of(ratio: np.ndarray, expected: np.ndarray, actual: np.ndarray) -> ErrorMap:
    """The map of one comparison from each entry's error/allowed (NaN where not judged), for a tensor of ≥ 2 entries.

    ``expected`` and ``actual`` are float64 arrays of the tensor's shape.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.clip(np.log10(ratio), *LOG_RANGE)  # NaN (not judged) stays NaN; inf (NaN/inf in yours) is the top
    matrix, tiles = _as_matrix(logs)
    rows, cols = matrix.shape
    # Conv tiles are pooled within a tile only: a filter's rows never share a cell with the next filter's.
    step_r = 1 if tiles > 1 else math.ceil(rows / MAX_SIDE)
    step_c = math.ceil(cols / MAX_SIDE)
    pooled = _pool(matrix, step_r, step_c)
    cells = tuple(tuple(None if v != v else v for v in row) for row in np.round(pooled, 2).tolist())  # NaN → None
    return ErrorMap(cells, (step_r, step_c), (rows, cols), tiles, _pairs(ratio, expected, actual))


def _pool(matrix: np.ndarray, step_r: int, step_c: int) -> np.ndarray:
    """The max over each step_r × step_c block, ignoring NaN (a block of NaN only stays NaN)."""
    rows, cols = matrix.shape
    padded = np.full((math.ceil(rows / step_r) * step_r, math.ceil(cols / step_c) * step_c), np.nan)
    padded[:rows, :cols] = matrix
    blocks = padded.reshape(padded.shape[0] // step_r, step_r, padded.shape[1] // step_c, step_c)
    empty = np.all(np.isnan(blocks), axis=(1, 3))
    worst = np.max(np.where(np.isnan(blocks), -np.inf, blocks), axis=(1, 3))
    return np.where(empty, np.nan, worst)


def _pairs(ratio: np.ndarray, expected: np.ndarray, actual: np.ndarray) -> tuple[tuple[float, float, bool], ...]:
    """(expected, actual, wrong) of the worst entries and of evenly spaced others, at most MAX_PAIRS, finite only."""
    flat = ratio.reshape(-1)
    finite = np.flatnonzero(np.isfinite(expected.reshape(-1)) & np.isfinite(actual.reshape(-1)))
    if finite.size == 0:
        return ()
    half = MAX_PAIRS // 2
    judged = np.where(np.isnan(flat[finite]), -np.inf, flat[finite])
    worst = finite[np.argsort(-judged, kind="stable")[:half]]
    spread = finite[np.linspace(0, finite.size - 1, min(finite.size, MAX_PAIRS - worst.size)).astype(np.intp)]
    chosen = list(dict.fromkeys([*worst.tolist(), *spread.tolist()]))
    e, a = expected.reshape(-1), actual.reshape(-1)
    return tuple((float(f"{e[k]:.6g}"), float(f"{a[k]:.6g}"), bool(flat[k] > 1)) for k in chosen)
