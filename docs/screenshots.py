"""Regenerate the pictures of docs/reports.md in docs/screenshots/.

    python docs/screenshots.py            # from the repository, its virtual environment active

It renders a student report and a class dashboard from the repository's own
buggy submissions, opens them in headless Chromium (Debian's ``chromium`` and
``chromium-driver``, which ``.ci/run`` installs; the same browser the tests of
tests/test_browser.py drive) and writes:

- ``report.png``: the top of the student report of
  tests/corpus/mlp_grads_missing_sigma_prime.py: verdict, equation, probable
  cause, heatmap, the error of each entry, worst entries;
- ``heatmap.png``: that report's ∇W3, whose error has a shape: the rows of the
  two units of Z₃ the ReLU switched off for every sample agree, every other
  row is wrong, darkest in the columns of units σ' should have silenced;
- ``dashboard.png``: a class dashboard of the CS231n layer submissions in
  examples/ and tests/corpus/.

Every check runs with seed 0: the pictures change only with the code, the
fonts and the dashboard's measured grading times.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
STUDENT = ROOT / "tests" / "corpus" / "mlp_grads_missing_sigma_prime.py"
STRUCTURED = "W3"  # the tensor of STUDENT whose heatmap shows the error's shape
CLASS = sorted([ROOT / "examples" / "cs231n_layers" / "buggy" / "layers.py",
                ROOT / "examples" / "cs231n_layers" / "correct" / "layers.py",
                *(ROOT / "tests" / "corpus").glob("cs231n_layers_*.py")])
WINDOW = (1160, 900)  # the reports' width (1100 CSS pixels) and their margins

sys.path.insert(0, str(ROOT / "tests"))
import browser  # noqa: E402  tests/browser.py: the one way to drive Chromium, shared with the tests


def _checked(path: Path) -> list:
    """The results of ``gradcheck check path`` (seed 0), its printed chatter swallowed."""
    from gradcheck import adapters
    from gradcheck.checks.conventions import check_module

    with contextlib.redirect_stdout(io.StringIO()):
        module, _ = adapters.load(str(path))
        return check_module(module, None, seed=0)


def _name(path: Path) -> str:
    """A submission's name: its corpus file's stem, or the example's folder (``buggy``, ``correct``)."""
    return path.stem.removeprefix("cs231n_layers_") if path.parent.name == "corpus" else f"example_{path.parent.name}"


def student_report(folder: Path) -> Path:
    """What ``gradcheck check STUDENT --html report.html`` writes."""
    from gradcheck import html

    out = folder / "report.html"
    name = STUDENT.relative_to(ROOT).as_posix()
    html.write(out, [(STUDENT.name, r) for r in _checked(STUDENT)], title=name,
               command=f"gradcheck check {name} --html report.html")
    return out


def class_dashboard(folder: Path) -> Path:
    """A batch's OUT/index.html and its OUT/<name>/report.html, one per submission of CLASS.

    Built here from gradcheck.html's functions; ``gradcheck grade SUBS --spec S --batch OUT`` writes the
    same folder, and this function can become that one command.
    """
    from gradcheck import html
    from gradcheck.compare import Verdict
    from gradcheck.diagnose import CATALOG

    rows, functions = [], {}
    for path in CLASS:
        name = _name(path)
        start = time.perf_counter()
        results = _checked(path)
        seconds = time.perf_counter() - start
        (folder / name).mkdir()
        html.write(folder / name / "report.html", [(path.name, r) for r in results], title=name)
        checks = {}
        for r in results:
            for function, verdict, _ in r.functions():
                functions[function] = None
                bugs = dict.fromkeys(c.bug for c in r.failures if c.bug and c.tensor.split(" ", 1)[0] == function)
                checks[function] = {"passed": verdict is Verdict.PASS,
                                    "diagnoses": [(bug, CATALOG[bug].cause) for bug in bugs]}
        rows.append({"name": name, "score": float(sum(c["passed"] for c in checks.values())), "seconds": seconds,
                     "report": f"{name}/report.html", "grader_errors": {}, "checks": checks})
    out = folder / "index.html"
    out.write_text(html.dashboard(rows, assignment="CS231n layers", checks=list(functions),
                                  max_score=float(len(functions))), encoding="utf-8")
    return out


def _save(png: bytes, path: Path) -> None:
    """Write a screenshot as a compressed PNG (the browser's own are not)."""
    from PIL import Image

    Image.open(io.BytesIO(png)).convert("RGB").save(path, optimize=True)
    print(f"wrote {path}", file=sys.stderr)


def _pictures_ready(page: browser.Page) -> None:
    problems = page.console_errors + page.outside_requests + tuple(
        f"picture not decoded: {i.classes}" for i in page.images if not i.decoded)
    if problems:
        raise SystemExit(f"{page.url} did not render cleanly: {problems}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="example: python docs/screenshots.py --out /tmp/shots")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the PNGs (default: docs/screenshots)")
    args = parser.parse_args(argv)
    reason = browser.missing()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gradcheck-screenshots-") as tmp, \
            browser.Chromium(window=WINDOW) as chromium:
        page = chromium.open(student_report(Path(tmp)))
        _pictures_ready(page)
        first = chromium.driver.execute_script(
            "return document.querySelector('article.comparison').getBoundingClientRect().bottom + scrollY;")
        _save(chromium.png(box=(0, 0, WINDOW[0], first + 8)), args.out / "report.png")
        card = f'article.comparison:has(img.heatmap[alt$=" {STRUCTURED}"])'
        _save(chromium.png(card, margin=8), args.out / "heatmap.png")
        batch = Path(tmp) / "batch"
        batch.mkdir()
        page = chromium.open(class_dashboard(batch))
        _pictures_ready(page)
        _save(chromium.png(), args.out / "dashboard.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
