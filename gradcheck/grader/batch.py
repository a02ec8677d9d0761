"""Grade a folder of submissions in parallel, resumably, with one CSV row per submission.

Each submission's results go to ``OUT/<name>/results.json`` (Gradescope format)
as soon as it is graded, with the :func:`fingerprint` of what was graded; a
rerun skips every submission whose results are complete and whose fingerprint
still matches, so a batch killed half-way loses nothing, and grades again every
submission whose grading failed (a sandbox fault, a grader that ran out of
memory), whose files changed, or whose spec changed. The seed comes from the
spec, so the same batch grades the same way every time.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from gradcheck.grader import dashboard, formats
from gradcheck.grader.grade import Grade, die_with_parent, failed_grading, grade
from gradcheck.grader.spec import Spec, load
from gradcheck.terminal import Terminal


@dataclass(frozen=True)
class Batch:
    """What a batch run produced."""

    summary: Path
    dashboard: Path  # OUT/index.html, the class view
    graded: int
    failed: tuple[str, ...]  # submissions whose grading failed (the grader's fault): graded again on a rerun


def _grade_one(submission: str, spec_path: str, out: str, allow_unsafe: bool, graded: str) -> str:
    spec = load(spec_path)
    # Other students' folders stay hidden: only this submission's private copy is mounted.
    result = grade(Path(submission), spec, hide=[Path(out).resolve(), Path(submission).resolve().parent],
                   allow_unsafe=allow_unsafe)
    _write(Path(out), Path(submission).name, result, graded)
    return Path(submission).name


def _write(out: Path, name: str, result: Grade, graded: str) -> None:
    (out / name).mkdir(exist_ok=True)
    formats.write_atomically(out / name / dashboard.REPORT, formats.html(result))  # before results.json: a
    formats.write_atomically(out / name / "results.json",  # graded one has both
                             formats.gradescope(result, {"graded": graded}))


def fingerprint(submission: Path, spec: Spec) -> str:
    """What a grade depends on, hashed: every file of the submission (names and bytes; a link by its target), the
    spec's checks, limits and secret seed, and gradcheck's version. Equal fingerprints, equal grades."""
    import dataclasses
    import hashlib

    from gradcheck import __version__

    digest = hashlib.sha256(f"gradcheck {__version__}\n{dataclasses.replace(spec, path=None)!r}\n".encode())
    for path in sorted(p for p in submission.rglob("*") if p.is_symlink() or p.is_file()):
        digest.update(f"{path.relative_to(submission).as_posix()}\0".encode())
        digest.update(os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _read(path: Path) -> tuple[float, list[float], list[str], list[str], str | None] | None:
    """Scores, checks to review, checks whose grading failed and the fingerprint graded; None when there is no
    usable result."""
    try:
        document = json.loads(path.read_text())
        extra = document.get("extra_data") or {}
        return (float(document["score"]), [float(t["score"]) for t in document["tests"]],
                [str(r) for r in extra.get("needs_review") or []], [str(f) for f in extra.get("grading_failed") or []],
                extra.get("graded"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def grade_all(submissions: Path, spec: Spec, out: Path, *, jobs: int = 2, allow_unsafe: bool = False,
              progress: Terminal | TextIO | None = None) -> Batch:
    """Grade every sub-folder of ``submissions`` not graded yet; write ``OUT/summary.csv``.

    ``progress`` (a stream or a Terminal; default: standard error) gets a line
    per submission as it is graded, ``[3/40] alice: 7 / 10``, and on a terminal
    a progress bar. A grader process that dies (out of memory, killed) leaves
    results that say grading failed for the submissions it held; they are
    graded again next time.
    """
    terminal = progress if isinstance(progress, Terminal) else Terminal(progress or sys.stderr)
    folders = sorted(p for p in Path(submissions).iterdir() if p.is_dir() and not p.is_symlink())
    out.mkdir(exist_ok=True)

    prints = {folder: fingerprint(folder, spec) for folder in folders}

    def done(folder: Path) -> bool:  # graded, by this grader, of these files, against this spec
        found = _read(out / folder.name / "results.json")
        return found is not None and not found[3] and found[4] == prints[folder]

    todo = [f for f in folders if not done(f)]
    if len(todo) < len(folders):
        terminal.print(f"{len(folders) - len(todo)} of {len(folders)} already graded; grading the other {len(todo)} "
                       f"(new, changed, under a changed spec, or not graded before)", detail=True)
    total = sum(c.weight for c in spec.checks)
    with ProcessPoolExecutor(max_workers=max(1, jobs), initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool, terminal.progress("submission", len(folders), done=len(folders) - len(todo)) as advance:
        futures = {pool.submit(_grade_one, str(f), str(spec.path), str(out), allow_unsafe, prints[f]): f for f in todo}
        for finished, future in enumerate(as_completed(futures), start=len(folders) - len(todo) + 1):
            folder = futures[future]
            try:
                future.result()
            except Exception as exc:  # the grading process itself died or failed
                why = ("the grading process died (out of memory, or killed)" if isinstance(exc, BrokenProcessPool)
                       else f"the grader failed: {type(exc).__name__}: {exc}")
                _write(out, folder.name, Grade(spec.name, str(folder), "none", tuple(
                    failed_grading(check, n, why) for n, check in enumerate(spec.checks, start=1)), 0.0), prints[folder])
            found = _read(out / folder.name / "results.json")
            state = "GRADING FAILED" if found is None or found[3] else f"{found[0]:g} / {total:g}"
            terminal.print(f"[{finished}/{len(folders)}] {folder.name}: {state}", words={"GRADING FAILED": "fail"},
                           detail=True)
            advance()
    rows, failed = [], []
    for folder in folders:
        found = _read(out / folder.name / "results.json")
        if found is None:
            failed.append(folder.name)
            rows.append([folder.name, "", *("" for _ in spec.checks), "", "results missing"])
            continue
        score, scores, review, broken, _ = found
        if broken:
            failed.append(folder.name)
        rows.append([folder.name, f"{score:g}", *(f"{s:g}" for s in scores), "; ".join(review), "; ".join(broken)])
    summary = out / "summary.csv"
    header = ["submission", "score", *(c.name for c in spec.checks), "needs review", "grading failed"]
    temporary = summary.with_suffix(".csv.tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    temporary.replace(summary)
    index = dashboard.write(out, spec, [folder.name for folder in folders])
    return Batch(summary, index, len(todo), tuple(failed))
