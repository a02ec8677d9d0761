"""Grade a folder of submissions in parallel, resumably, with one CSV row per submission.

Each submission's results go to ``OUT/<name>/results.json`` (Gradescope format)
as soon as it is graded; a rerun skips every submission that already has one,
so a batch killed half-way loses nothing. The seed comes from the spec, so the
same batch grades the same way every time.
"""

from __future__ import annotations

import csv
import json
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from gradcheck.grader import formats
from gradcheck.grader.grade import grade
from gradcheck.grader.spec import Spec, load


def _grade_one(submission: str, spec_path: str, out: str) -> tuple[str, float, list[float]]:
    spec = load(spec_path)
    # Other students' folders stay hidden: only this submission is mounted back.
    result = grade(Path(submission), spec, hide=[Path(out).resolve(), Path(submission).resolve().parent])
    target = Path(out) / Path(submission).name / "results.json"
    formats.write_atomically(target, formats.gradescope(result))
    return Path(submission).name, result.score, [g.score for g in result.checks]


def _read_scores(path: Path) -> tuple[float, list[float], list[str]]:
    document = json.loads(path.read_text())
    review = (document.get("extra_data") or {}).get("needs_review") or []
    return float(document["score"]), [float(t["score"]) for t in document["tests"]], [str(r) for r in review]


def grade_all(submissions: Path, spec: Spec, out: Path, *, jobs: int = 2, progress=sys.stderr) -> Path:
    """Grade every sub-folder of ``submissions`` not graded yet; return the path of the summary CSV."""
    folders = sorted(p for p in Path(submissions).iterdir() if p.is_dir())
    out.mkdir(parents=True, exist_ok=True)
    todo = [f for f in folders if not (out / f.name / "results.json").is_file()]
    done = len(folders) - len(todo)
    if done:
        print(f"{done} of {len(folders)} already graded; grading the other {len(todo)}", file=progress)
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_grade_one, str(f), str(spec.path), str(out)) for f in todo]
        for finished, future in enumerate(as_completed(futures), start=done + 1):
            name, score, _ = future.result()
            print(f"[{finished}/{len(folders)}] {name}: {score:g} / {sum(c.weight for c in spec.checks):g}", file=progress)
    summary = out / "summary.csv"
    rows = []
    for folder in folders:
        total, scores, review = _read_scores(out / folder.name / "results.json")
        rows.append([folder.name, f"{total:g}", *(f"{s:g}" for s in scores), "; ".join(review)])
    text_rows = [["submission", "score", *(c.name for c in spec.checks), "needs review"], *rows]
    temporary = summary.with_suffix(".csv.tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(text_rows)
    temporary.replace(summary)
    return summary
