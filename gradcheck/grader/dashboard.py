"""The class dashboard of a batch: ``OUT/index.html``, read back from every submission's ``results.json``.

It is built from the files on disk, not from the grading run that just
ended, so a resumed batch shows the whole class, and a rerun of the command
rebuilds it. What each submission's results hold for it is in
:func:`gradcheck.grader.formats.gradescope` (``tests[].extra_data``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

from gradcheck.grader.formats import write_atomically
from gradcheck.grader.spec import Spec

INDEX = "index.html"
REPORT = "report.html"  # each submission's own report, beside its results.json


def rows(out: Path, names: Sequence[str]) -> list[dict]:
    """One row per submission: its score (None when it has no usable results or grading failed), time,
    report link, grader faults per check, and per check whether it passed and the mistakes diagnosed."""
    table = []
    for name in names:
        row = {"name": name, "score": None, "seconds": None, "checks": {}, "grader_errors": {},
               "report": f"{quote(name)}/{REPORT}" if (out / name / REPORT).is_file() else None}
        try:
            document = json.loads((out / name / "results.json").read_text(encoding="utf-8"))
            tests = document["tests"]
            for test in tests:
                extra = test.get("extra_data") or {}
                if extra.get("grader_error"):
                    row["grader_errors"][str(test["name"])] = str(extra["grader_error"])
                row["checks"][str(test["name"])] = {
                    "passed": test.get("status") == "passed",
                    "diagnoses": [(str(bug), str(cause)) for bug, cause in extra.get("diagnoses") or []]}
            row["seconds"] = float(document.get("execution_time") or 0.0)
            if not row["grader_errors"]:
                row["score"] = float(document["score"])
        except (OSError, ValueError, KeyError, TypeError):
            row["grader_errors"] = row["grader_errors"] or {"(all)": "no usable results.json: grade it again"}
        table.append(row)
    return table


def write(out: Path, spec: Spec, names: Sequence[str]) -> Path:
    """Write ``OUT/index.html`` for the submissions ``names`` graded into ``out``; return its path."""
    from gradcheck import html

    page = html.dashboard(rows(out, names), assignment=spec.name, checks=[c.name for c in spec.checks],
                          max_score=sum(c.weight for c in spec.checks))
    write_atomically(out / INDEX, page)
    return out / INDEX
