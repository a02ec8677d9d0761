"""The HTML reports: one self-contained page per run of checks, per graded submission, and per class.

Every page opens offline: its style is inline and its pictures are PNG
``data:`` URIs (:mod:`gradcheck.pictures`), so it makes no request at all.
Every string that comes from user code (tensor names, error messages, file
names) is escaped by Jinja2's autoescaping, so a hostile submission cannot
inject markup into a report course staff open.

- :func:`page` / :func:`write`: the student report of ``gradcheck check
  --html``, ``pytest --gradcheck-html`` and the notebook view (:func:`fragment`):
  per check and tensor the verdict, the equation, a heatmap of the error over
  the tensor's entries, yours against the expected values, the worst entries,
  the probable cause, the problem and the command that replays it.
- :func:`grade_page`: one graded submission, fit for the student (the grader
  has already hidden every seed; checks the spec hides show their score only).
- :func:`dashboard`: a batch's class view (see :mod:`gradcheck.grader.batch`).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from gradcheck.compare import Comparison, Verdict
from gradcheck.report import mistake, render, summary

Replay = Callable[[str, Any], "str | None"]  # (test or target, result) -> the command that runs it again


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("gradcheck", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def _card(c: Comparison) -> dict:
    """What the page shows of one comparison."""
    from gradcheck import pictures

    shape = " × ".join(str(n) for n in c.expected_shape) or "scalar"
    picture = c.error_map
    return {
        "verdict": c.verdict.value, "tensor": c.tensor, "shape": shape, "dtype": c.dtype,
        "witnesses": c.witnesses, "equation": None if c.equation is None else str(c.equation),
        "problem": c.problem, "seed": c.seed, "note": c.note, "diagnosis": c.diagnosis, "summary": summary(c),
        "heatmap": None if picture is None or picture.worst is None else pictures.heatmap(picture, c.tensor),
        "scatter": None if picture is None or len(picture.pairs) < 2 else pictures.scatter(picture, c.tensor, c.witnesses),
        "worst": [{"index": ", ".join(map(str, e.index)), "actual": f"{e.actual:.6g}", "expected": f"{e.expected:.6g}",
                   "abs_err": f"{e.abs_err:.2e}", "rel_err": f"{e.rel_err:.2e}"} for e in c.worst]
                 if c.verdict is Verdict.FAIL else [],
        "not_checkable": c.not_checkable, "not_checkable_reason": c.not_checkable_reason, "size": c.size,
        "text": render(c),
    }


def _check(test: str, result: Any, replay: Replay | None) -> dict:
    """What the page shows of one check (a ``CheckResult`` or a ``Verification``)."""
    same: dict[tuple, list[Comparison]] = {}
    for c in result.comparisons:  # a failure repeated across cases with the same diagnosis is drawn once
        if c.verdict is not Verdict.PASS:
            same.setdefault(mistake(c), []).append(c)
    shown = [_card(max(records, key=_telling)) for records in same.values()]
    functions = result.functions() if hasattr(result, "functions") else ()
    return {
        "test": test, "verdict": result.verdict.value, "headline": result.headline(),
        "functions": [{"name": n, "verdict": v.value, "cause": cause} for n, v, cause in functions],
        "precision": getattr(result, "precision", None), "unsupported": list(getattr(result, "unsupported", ())),
        "warnings": [_card(w) for w in getattr(result, "warnings", ())],
        "cards": shown, "agreeing": [_card_line(c) for c in result.comparisons if c.verdict is Verdict.PASS],
        "replay": replay(test, result) if replay else None,
    }


def _telling(c: Comparison) -> tuple[bool, bool, int]:
    """How much a record's picture tells: first one where some entries agree and others do not (a row, a
    column, a block), then any picture, then the largest; ties go to the first record."""
    if c.error_map is None:
        return False, False, 0
    values = [v for row in c.error_map.cells for v in row if v is not None]
    return any(v > 0 for v in values) and any(v <= 0 for v in values), True, c.size


def _card_line(c: Comparison) -> dict:
    return {"summary": summary(c), "problem": c.problem}


def _tally(results: Sequence[Any]) -> dict:
    verdicts = [r.verdict for r in results]
    return {"checks": len(verdicts), "passed": verdicts.count(Verdict.PASS), "failed": verdicts.count(Verdict.FAIL),
            "inconclusive": verdicts.count(Verdict.INCONCLUSIVE)}


def page(checks: Sequence[tuple[str, Any]], *, title: str, replay: Replay | None = None, command: str | None = None) -> str:
    """The whole report of ``checks`` ((test or target, result) pairs) as one self-contained HTML page."""
    shown = [_check(test, result, replay) for test, result in checks]
    return _render("report.html.j2", title=title, command=command, tally=_tally([r for _, r in checks]),
                   checks=shown, standalone=True, legend=_drawn(shown))


def _drawn(checks: Sequence[dict]) -> bool:
    """Whether any card of ``checks`` has a heatmap (the page then says how to read one)."""
    return any(c["heatmap"] for k in checks if k for c in (*k["cards"], *k["warnings"]))


def fragment(checks: Sequence[tuple[str, Any]], *, replay: Replay | None = None) -> str:
    """The report of ``checks`` as an HTML fragment (its style scoped to it), for a notebook cell's output."""
    return _render("report.html.j2", title=None, command=None, tally=_tally([r for _, r in checks]),
                   checks=[_check(test, result, replay) for test, result in checks], standalone=False)


def write(path: str | Path, checks: Sequence[tuple[str, Any]], *, title: str, replay: Replay | None = None,
          command: str | None = None) -> None:
    """Write :func:`page` to ``path`` (its folder must exist; "-" is standard output)."""
    text = page(checks, title=title, replay=replay, command=command)
    if str(path) == "-":
        sys.stdout.write(text)
        return
    Path(path).write_text(text, encoding="utf-8")


def grade_page(grade: Any) -> str:
    """The report of one graded submission (a ``gradcheck.grader.grade.Grade``), fit for its student."""
    rows = []
    for g in grade.checks:
        hidden = g.check.visibility == "hidden"
        rows.append({
            "name": g.check.name, "score": f"{g.score:g}", "max_score": f"{g.check.weight:g}", "status": g.status,
            "hidden": hidden, "grader_error": g.grader_error is not None, "output": "" if hidden else g.output,
            "check": None if hidden or g.result is None else _check(g.check.name, g.result, None),
        })
    return _render("grade.html.j2", assignment=grade.assignment, submission=Path(grade.submission).name,
                   score=f"{grade.score:g}", max_score=f"{grade.max_score:g}", checks=rows,
                   legend=_drawn([g["check"] for g in rows]),
                   needs_review=list(grade.needs_review), grading_failed=list(grade.grading_failed))


UNKNOWN = ("unknown", "a gradient is wrong, by no mistake gradcheck knows (see the reports)")
LAST = ("unknown", "did_not_run")  # listed after every named mistake, however frequent


def dashboard(rows: Sequence[dict], *, assignment: str, checks: Sequence[str], max_score: float) -> str:
    """The class view of a batch from its submissions' rows (see :func:`gradcheck.grader.batch.class_rows`).

    Each row: ``name``, ``score`` (None when grading failed), ``seconds``,
    ``report`` (a relative link or None), ``grader_errors`` (check → reason)
    and ``checks`` (check → {"passed", "diagnoses": [(bug, cause)]}).
    """
    from gradcheck import pictures

    graded = [r for r in rows if r["score"] is not None]
    rates = []
    for name in checks:
        outcomes = [r["checks"][name]["passed"] for r in graded if name in r["checks"]]
        rates.append({"name": name, "passed": sum(outcomes), "of": len(outcomes),
                      "percent": round(100 * sum(outcomes) / len(outcomes)) if outcomes else 0})
    found: dict[tuple[str, str], list[str]] = {}
    for r in graded:
        mistakes = {}  # each mistake counts once per submission, however many of its checks show it
        for check, outcome in r["checks"].items():
            unknown = [] if outcome["passed"] else [UNKNOWN]
            mistakes.update(dict.fromkeys(outcome["diagnoses"] or unknown))
        for key in mistakes:
            found.setdefault(key, []).append(r["name"])
    links = {r["name"]: r["report"] for r in rows}
    diagnoses = sorted(({"bug": bug, "cause": cause, "count": len(names),
                         "examples": [{"name": n, "report": links[n]} for n in names[:5]]}
                        for (bug, cause), names in found.items()),
                       key=lambda d: (d["bug"] in LAST, -d["count"], d["bug"]))  # the mistakes named first
    faults = [{"name": r["name"], "checks": sorted(r["grader_errors"].items())} for r in rows if r["grader_errors"]]
    scores = [r["score"] for r in graded]
    return _render("dashboard.html.j2", assignment=assignment, max_score=f"{max_score:g}", rows=rows,
                   count=len(rows), graded=len(graded), rates=rates, diagnoses=diagnoses, faults=faults,
                   histogram=pictures.histogram(scores, max_score) if scores else None,
                   mean=f"{sum(scores) / len(scores):.3g}" if scores else None)
