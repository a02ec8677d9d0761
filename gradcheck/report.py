"""Render comparison records as text: one renderer for every place a verdict is shown.

The layout follows ``numpy.testing.assert_allclose`` (tolerances, mismatch
count and percentage, max abs/rel difference, worst entries with both values),
led by what numpy cannot know: the tensor, its equation and the two witnesses.
The first line stands alone as a summary.
"""

from __future__ import annotations

import sys
from typing import Iterable, Sequence

import numpy as np

from gradcheck.compare import Comparison, Verdict
from gradcheck.settings import OUTPUTS


def _g(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.6g}"


def summary(c: Comparison) -> str:
    """The one-line verdict: ``FAIL W1 (4, 6) float64: closed form vs JAX disagree on 3 of 24 entries``."""
    shape = str(c.expected_shape) if c.expected_shape else ""  # a scalar (a loss, a directional derivative) has none
    head = " ".join(p for p in (c.verdict.value.upper(), c.tensor, shape, c.dtype) if p)
    head += f": {c.witnesses[0]} vs {c.witnesses[1]}"
    if c.note and c.checked == 0:
        return f"{head}: {c.note}"
    if c.verdict is Verdict.INCONCLUSIVE:
        return (f"{head}: could not judge enough entries ({c.checked} of {c.checked + c.not_checkable} checked)"
                if c.checked else f"{head}: could not judge any entry")
    if c.verdict is Verdict.FAIL:
        return f"{head} disagree on {c.mismatches} of {c.checked} checked entries"
    return f"{head} agree on all {c.checked} checked entries (max rel err {c.max_rel_err:.1e})"


def _worst_entries(c: Comparison) -> list[str]:
    header = ["index", c.witnesses[0], c.witnesses[1], "abs err", "rel err"]
    rows = [[str(e.index), _g(e.actual), _g(e.expected), f"{e.abs_err:.2e}", f"{e.rel_err:.2e}"] for e in c.worst]
    return ["    " + line for line in table(header, rows, right=[False, True, True, True, True]).splitlines()]


class GradientMismatch(AssertionError):
    """A gradient of user code disagrees with the oracle; the message is the full report."""

    __module__ = "gradcheck"  # as tracebacks name it: its public name


class Inconclusive(AssertionError):
    """A check could not judge enough of the code to pass it; the message says what and how to re-run."""

    __module__ = "gradcheck"


class Rendered:
    """What every result does with its verdict: prints as its text report, shows its HTML report in a notebook,
    raises what it found. A result provides ``verdict``, ``headline()``, ``render()`` and ``label``."""

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:  # the records' arrays and pictures would make the default repr pages long
        return f"<{type(self).__name__} {self.headline()}>"

    def _repr_html_(self) -> str:
        """The HTML report, shown inline by Jupyter."""
        from gradcheck import html

        return html.fragment([(self.label, self)])

    def raise_if_failed(self):
        """Raise :class:`GradientMismatch` if anything failed, :class:`Inconclusive` if too little was judged; else
        return the result."""
        __tracebackhide__ = True
        if self.verdict is Verdict.FAIL:
            raise GradientMismatch(self.render())
        if self.verdict is Verdict.INCONCLUSIVE:
            raise Inconclusive(self.render())
        return self


def mistake(c: Comparison) -> tuple:
    """What makes two records the same mistake, shown in full once: the tensor (its checks along random
    directions, ``W1·v1``, fold into it), the diagnosis, whether it could be compared at all, the verdict."""
    return (c.tensor.split("·")[0], c.bug, c.note is not None, c.verdict)


def render(c: Comparison) -> str:
    """The full text of one comparison, from its summary line to its worst entries."""
    lines = [summary(c)]
    if c.equation is not None:
        lines.append(f"  {c.equation}")
    if c.problem or c.seed is not None:
        where = ", ".join(p for p in (c.problem, None if c.seed is None else f"seed {c.seed}") if p)
        lines.append(f"  problem: {where}")
    if c.note:
        lines.append(f"  {c.note}")
    if c.checked:
        t = c.tolerance
        floor = t.floor * c.scale  # |a − b| ≤ rtol·max(|b|, floor): small entries get rtol·floor, absolute
        lines.append(f"  tolerance: rtol={t.rtol:g} of max(|{c.witnesses[1]}|, {_g(floor)}), so at least {t.rtol * floor:.2g} "
                     f"absolute ({_g(floor)} = {t.floor:g} x max|{c.witnesses[1]}|)"
                     + (f", plus up to {c.allowance:.2g} for the witnesses' own error" if c.allowance else ""))
        if c.mismatches:
            lines.append(f"  Mismatched elements: {c.mismatches} / {c.checked} ({100 * c.mismatches / c.checked:.3g}%)")
        lines.append(f"  Max absolute difference: {c.max_abs_err:.3g}")
        lines.append(f"  Max relative difference: {c.max_rel_err:.3g}")
    if c.bounded:
        lines.append(f"  On a kink: {c.bounded} of {c.size} entries judged against the interval every valid σ' there "
                     f"allows (its half-width is part of the allowance)")
    if c.not_checkable:
        lines.append(f"  Not checkable: {c.not_checkable} of {c.size} entries ({c.not_checkable_reason or 'no reason given'})")
    if c.worst and c.verdict is Verdict.FAIL:
        lines.append("  worst entries:")
        lines.extend(_worst_entries(c))
    if c.diagnosis:
        lines.append(f"  probable cause: {c.diagnosis}")
    return "\n".join(lines)


def render_all(comparisons: Iterable[Comparison], *, failures_only: bool = False) -> str:
    """Every comparison rendered in turn, separated by blank lines."""
    return "\n\n".join(render(c) for c in comparisons if not (failures_only and c.passed))


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[bool] | None = None) -> str:
    """A plain aligned text table, numbers right-aligned."""
    right = right or [False] * len(header)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).rjust(w) if r else str(c).ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _number(value: float) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def to_dict(c: Comparison) -> dict:
    """The comparison as plain JSON-ready data (non-finite numbers become null); see docs/report.md."""
    return {
        "tensor": c.tensor,
        "equation": None if c.equation is None else {"number": c.equation.number, "formula": c.equation.formula},
        "witnesses": list(c.witnesses),
        "verdict": c.verdict.value,
        "expected_shape": list(c.expected_shape),
        "actual_shape": list(c.actual_shape),
        "dtype": c.dtype,
        "checked": c.checked,
        "mismatches": c.mismatches,
        "not_checkable": c.not_checkable,
        "not_checkable_reason": c.not_checkable_reason,
        "bounded": c.bounded,
        "max_abs_err": _number(c.max_abs_err),
        "max_rel_err": _number(c.max_rel_err),
        "tolerance": {"rtol": c.tolerance.rtol, "floor": c.tolerance.floor, "allowance": c.allowance},
        "worst": [{"index": list(e.index), "actual": _number(e.actual), "expected": _number(e.expected),
                   "abs_err": _number(e.abs_err), "rel_err": _number(e.rel_err)} for e in c.worst],
        "problem": c.problem,
        "seed": c.seed,
        "error": c.note,
        "diagnosis": c.diagnosis,
        "bug": c.bug,
        "finding": c.finding,
        "error_map": None if c.error_map is None else c.error_map.to_dict(),
    }


def write_report(path: str, checks: Sequence[tuple[str, object]], settings: dict) -> None:
    """Write the JSON report (docs/report.schema.json) to ``path`` ("-": standard output): every (test id,
    CheckResult) with its comparisons."""
    import json

    results = [result for _, result in checks]
    document = {
        "format": "gradcheck-report/1",
        "settings": {k: v for k, v in settings.items() if k not in OUTPUTS},
        "summary": {"checks": len(results), "passed": sum(r.passed for r in results),
                    "failed": sum(r.verdict.value == "fail" for r in results),
                    "inconclusive": sum(r.verdict.value == "inconclusive" for r in results)},
        "checks": [{"test": test, **result.to_dict()} for test, result in checks],
    }
    if path == "-":  # standard output, alone there
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
