"""Grades written for the platforms that read them, always atomically and by the trusted process.

- Gradescope ``results.json``: score, execution_time, output, tests[] with
  name, number, score, max_score, status, output and visibility;
- PrairieLearn ``results.json``: gradable, score in [0, 1], tests[] with points;
- JUnit XML, for CI dashboards;
- plain JSON with every comparison (the report schema of docs/report.schema.json, per check);
- an HTML page for the student, with the heatmaps of every failing tensor.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

from gradcheck.grader.grade import Grade, Graded


def _header(grade: Grade) -> str:
    review, failed = grade.needs_review, grade.grading_failed
    sandbox = ("none: graded with --unsafe-no-sandbox, so the submission ran with the grader's own privileges"
               if grade.unsafe else grade.layer)
    return (f"gradcheck graded {grade.assignment}: {grade.score:g} / {grade.max_score:g} points. "
            f"Sandbox: {sandbox}."
            + (f" GRADING FAILED for {', '.join(failed)}: the autograder could not grade "
               f"{'it' if len(failed) == 1 else 'them'} (not a fault of the submission)." if failed else "")
            + (f" Flagged for review by course staff: {', '.join(review)} could not be judged." if review else ""))


def gradescope(grade: Grade, extra: dict | None = None) -> str:
    """Gradescope's results.json (``extra`` joins its staff-only ``extra_data``)."""
    return json.dumps({
        "score": round(grade.score, 4),
        "execution_time": round(grade.seconds, 3),
        "output": _header(grade),
        "stdout_visibility": "hidden",
        # stored with the submission, for staff: what to look at, what to grade again
        "extra_data": {"needs_review": list(grade.needs_review), "grading_failed": list(grade.grading_failed),
                       "unsafe_no_sandbox": grade.unsafe, **(extra or {})},
        "tests": [{
            "name": g.check.name, "number": str(g.number), "score": round(g.score, 4), "max_score": g.check.weight,
            "status": g.status, "output": g.output, "visibility": g.check.visibility,
            "extra_data": _staff_data(g),
        } for g in grade.checks],
    }, indent=2, ensure_ascii=False)


DID_NOT_RUN = ("did_not_run", "the code did not run: a file or function is missing, it does not import, or it "
                              "raised before returning a gradient")


def _staff_data(g: Graded) -> dict:
    """What the class dashboard reads of a check: its verdict, the mistakes diagnosed, its time, a grader fault."""
    from gradcheck.diagnose import CATALOG

    failures = () if g.result is None else g.result.failures
    bugs = dict.fromkeys((c.bug, CATALOG[c.bug].cause if c.bug in CATALOG else c.diagnosis or c.bug)
                         for c in failures if c.bug)
    if g.result is None and g.status != "passed" and not g.grader_error:  # nothing was compared: it never ran
        bugs = {DID_NOT_RUN: None}
    return {"verdict": "inconclusive" if g.inconclusive else "pass" if g.status == "passed" else "fail",
            "diagnoses": [list(b) for b in bugs], "seconds": round(g.seconds, 3), "grader_error": g.grader_error}


def prairielearn(grade: Grade) -> str:
    """PrairieLearn's results.json for external graders."""
    total = grade.max_score
    return json.dumps({
        "gradable": not grade.grading_failed,
        "score": (grade.score / total) if total else 0.0,
        "message": _header(grade),
        "tests": [{"name": g.check.name, "points": round(g.score, 4), "max_points": g.check.weight,
                   "output": g.output, "message": g.output.splitlines()[0] if g.output else ""} for g in grade.checks],
    }, indent=2, ensure_ascii=False)


def junit(grade: Grade) -> str:
    """A JUnit XML testsuite, one testcase per check."""
    suite = ET.Element("testsuite", name=grade.assignment, tests=str(len(grade.checks)),
                       failures=str(sum(g.status != "passed" for g in grade.checks)), time=f"{grade.seconds:.3f}")
    for g in grade.checks:
        case = ET.SubElement(suite, "testcase", classname=grade.assignment, name=g.check.name, time=f"{g.seconds:.3f}")
        if g.status != "passed":
            failure = ET.SubElement(case, "failure", message=g.output.splitlines()[0] if g.output else "failed")
            failure.text = g.output
    ET.SubElement(suite, "system-out").text = _header(grade)
    return ET.tostring(suite, encoding="unicode")


def plain(grade: Grade) -> str:
    """Everything gradcheck knows about the grade, every comparison included."""
    return json.dumps({
        "assignment": grade.assignment, "submission": grade.submission, "sandbox": grade.layer,
        "score": grade.score, "max_score": grade.max_score, "seconds": grade.seconds,
        "grading_failed": list(grade.grading_failed), "unsafe_no_sandbox": grade.unsafe,
        "checks": [{"name": g.check.name, "convention": g.check.convention, "score": g.score,
                    "max_score": g.check.weight, "status": g.status, "inconclusive": g.inconclusive, "grader_error": g.grader_error, "output": g.output,
                    "result": None if g.result is None else g.result.to_dict()} for g in grade.checks],
    }, indent=2, ensure_ascii=False)


def html(grade: Grade) -> str:
    """The submission's own HTML report (``gradcheck.html.grade_page``): heatmaps of its errors, no seed."""
    from gradcheck import html as pages

    return pages.grade_page(grade)


FORMATS: dict[str, Callable[[Grade], str]] = {
    "gradescope": gradescope, "prairielearn": prairielearn, "junit": junit, "json": plain, "html": html,
}


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so no reader sees half of it.

    The folder must exist: a mistyped path never creates folders elsewhere.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
