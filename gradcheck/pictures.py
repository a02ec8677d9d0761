"""The reports' pictures, drawn by matplotlib (Agg, no display) into PNG ``data:`` URIs an HTML page embeds.

- :func:`heatmap`: a comparison's :class:`~gradcheck.error_map.ErrorMap`, each
  cell coloured by its entries' worst error as a multiple of the error allowed:
  greys up to the allowance, reds beyond it, violet where no entry could be
  judged; conv weights as one tile per filter.
- :func:`scatter`: your error (yours − expected) against the expected value
  for a sample of entries, the wrong ones in red: a correct tensor lies on the
  zero line, a sign flip on a line of slope −2, a factor k on slope k − 1.
- :func:`histogram`: a class's scores.

matplotlib is imported only when a picture is drawn: a check that writes no
report never loads it.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any, Sequence

import numpy as np

from gradcheck.error_map import LOG_RANGE, ErrorMap

NOT_JUDGED = "#b9a6e0"  # violet: no entry of the cell could be judged (a kink, a witness without an estimate)
GAP = (1.0, 1.0, 1.0, 1.0)  # between conv filters


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)  # no display, the same picture everywhere
    import matplotlib.pyplot as plt

    return plt


def _encoded(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _colours(top: float) -> tuple[Any, Any]:
    """The colour map and its norm: greys from 1e-4 of the allowance up to it, reds from it to ``top``."""
    from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm

    plt = _pyplot()
    greys = plt.get_cmap("Greys")(np.linspace(0.15, 0.45, 128))  # visibly grey against the white page
    reds = plt.get_cmap("Reds")(np.linspace(0.3, 1.0, 128))
    cmap = LinearSegmentedColormap.from_list("gradcheck_error", np.vstack([greys, reds])).with_extremes(bad=NOT_JUDGED)
    return cmap, TwoSlopeNorm(vmin=LOG_RANGE[0], vcenter=0.0, vmax=max(top, 1.0))


def heatmap(picture: ErrorMap, tensor: str) -> str:
    """The error map of ``tensor`` as a PNG data URI."""
    plt = _pyplot()
    cells = np.array([[np.nan if v is None else v for v in row] for row in picture.cells], dtype=float)
    cmap, norm = _colours(picture.worst or 0.0)
    rows, cols = picture.shape
    if picture.tiles > 1:
        image, per_row = _tiled(cells, picture.tiles, cmap, norm)
        height, width = image.shape[:2]
        figure, axes = plt.subplots(figsize=_size(height, width))
        axes.imshow(image, interpolation="nearest")
        axes.set_xticks([]), axes.set_yticks([])
        axes.set_xlabel(f"{picture.tiles} filters, {per_row} per row, each {rows // picture.tiles} × {cols} "
                        f"(the worst over its channels)")
    else:
        figure, axes = plt.subplots(figsize=_size(*cells.shape))
        from matplotlib.ticker import MaxNLocator

        # in entries, not cells: entry k's cell is centred on k when cells are not pooled
        axes.imshow(np.ma.masked_invalid(cells), cmap=cmap, norm=norm, interpolation="nearest", aspect="auto",
                    extent=(-0.5, cols - 0.5, rows - 0.5, -0.5))
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("column")
        axes.set_ylabel("row" if rows > 1 else "")
        if rows == 1:
            axes.set_yticks([])
    if any(v is None for row in picture.cells for v in row):
        from matplotlib.patches import Patch

        axes.legend(handles=[Patch(facecolor=NOT_JUDGED, label="not judged")], loc="upper right", fontsize=7,
                    bbox_to_anchor=(1.0, -0.1 if picture.tiles == 1 else 0.0), frameon=False)
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = figure.colorbar(mappable, ax=axes, fraction=0.046, pad=0.04)
    step = 1 if norm.vmax <= 4 else 2 if norm.vmax <= 8 else 4
    ticks = list(range(int(LOG_RANGE[0]), int(math.floor(norm.vmax)) + 1, step))  # within the bar, or it breaks
    bar.set_ticks(ticks)
    bar.set_ticklabels([_power(t) for t in ticks])
    bar.set_label("error / allowed\n(above 1× is wrong)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    pooled = "" if picture.block == (1, 1) else f" (each cell the worst of {picture.block[0]} × {picture.block[1]} entries)"
    axes.set_title(f"{tensor}: where it is wrong{pooled}", fontsize=10, parse_math=False)
    return _encoded(figure)


def _power(exponent: int) -> str:
    """``10⁻⁴×``, ``1×``, ``10⁶×``: every tick in one form."""
    return "1×" if exponent == 0 else "10" + str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")) + "×"


def _tiled(cells: np.ndarray, tiles: int, cmap: Any, norm: Any) -> tuple[np.ndarray, int]:
    """Conv filters as tiles of RGBA in a grid, one blank cell between them."""
    height, width = cells.shape[0] // tiles, cells.shape[1]
    per_row = math.ceil(math.sqrt(tiles))
    grid_rows = math.ceil(tiles / per_row)
    image = np.ones(((height + 1) * grid_rows - 1, (width + 1) * per_row - 1, 4))
    image[...] = GAP
    colours = cmap(norm(np.ma.masked_invalid(cells)))
    for k in range(tiles):
        r, c = divmod(k, per_row)
        image[r * (height + 1):r * (height + 1) + height, c * (width + 1):c * (width + 1) + width] = \
            colours[k * height:(k + 1) * height]
    return image, per_row


def _size(rows: int, cols: int) -> tuple[float, float]:
    """Inches for a map of rows × cols cells: about 6 wide, as tall as its shape asks within limits (a vector's
    one row still leaves its colour bar room for its labels)."""
    aspect = rows / max(cols, 1)
    return 6.5, min(6.0, max(2.4, 5.0 * aspect))


def scatter(picture: ErrorMap, tensor: str, witnesses: tuple[str, str]) -> str:
    """Your error against the expected value, for the sample of entries the map keeps, as a PNG data URI."""
    plt = _pyplot()
    expected, actual, wrong = (np.array(side, dtype=float) for side in zip(*picture.pairs))
    error, wrong = actual - expected, wrong.astype(bool)
    figure, axes = plt.subplots(figsize=(3.8, 3.4))
    axes.axhline(0.0, color="#777777", linewidth=1, linestyle="--", label=f"{witnesses[0]} = {witnesses[1]}")
    axes.scatter(expected[~wrong], error[~wrong], s=9, color="#8c959f", linewidths=0, label="agrees")
    axes.scatter(expected[wrong], error[wrong], s=11, color="#c62828", linewidths=0, label="wrong")
    axes.set_xlabel(witnesses[1], parse_math=False)
    axes.set_ylabel(f"{witnesses[0]} − {witnesses[1]}", parse_math=False)
    axes.set_title(f"{tensor}: the error of each entry", fontsize=9, parse_math=False)
    axes.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    axes.legend(loc="best", fontsize=7, frameon=False)
    return _encoded(figure)


def histogram(scores: Sequence[float], max_score: float) -> str:
    """A class's scores out of ``max_score``, as a PNG data URI."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.0, 2.6))
    bins = np.linspace(0, max_score or 1.0, 11)
    axes.hist(np.clip(scores, 0, max_score or 1.0), bins=bins, color="#1565c0", edgecolor="white")
    axes.set_xlabel(f"score (out of {max_score:g})")
    axes.set_ylabel("submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _encoded(figure)
