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
- ``dashboard.png``: the class dashboard ``gradcheck grade --batch`` writes for
  examples/dlsys_hw0's students and hw0 submissions built from tests/corpus/,
  graded in the sandbox against examples/gradescope/hw0.toml (about a minute).

The report runs with seed 0 and the class with the seed 2026: the pictures change only with the code, the
fonts and the dashboard's measured grading times.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
STUDENT = ROOT / "tests" / "corpus" / "mlp_grads_missing_sigma_prime.py"
STRUCTURED = "W3"  # the tensor of STUDENT whose heatmap shows the error's shape
HW0 = ROOT / "examples" / "dlsys_hw0"
SPEC = ROOT / "examples" / "gradescope" / "hw0.toml"
CORPUS_STUDENTS = (  # tests/corpus/ files, each a function of hw0 as a student wrote it
    "nn_epoch_correct_direct_softmax", "softmax_regression_epoch_correct_float32_internal",
    "nn_epoch_updated_weights", "nn_epoch_missing_sigma_prime", "nn_epoch_sum_instead_of_mean",
    "nn_epoch_hard_coded_batch_size", "nn_epoch_skipped_partial_batch", "nn_epoch_loss_sum",
    "nn_epoch_unknown_momentum", "softmax_regression_epoch_sum_instead_of_mean",
    "softmax_regression_epoch_skipped_partial_batch", "nn_epoch_softmax_overflow",
)
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


def student_report(folder: Path) -> Path:
    """What ``gradcheck check STUDENT --html report.html`` writes."""
    from gradcheck import html

    out = folder / "report.html"
    name = STUDENT.relative_to(ROOT).as_posix()
    html.write(out, [(STUDENT.name, r) for r in _checked(STUDENT)], title=name,
               command=f"gradcheck check {name} --html report.html")
    return out


def class_dashboard(folder: Path) -> Path:
    """What ``gradcheck grade SUBMISSIONS --spec hw0.toml --batch OUT`` writes for a class: OUT/index.html.

    The class is examples/dlsys_hw0's two students and students whose simple_ml.py is the correct one
    with one function replaced by a tests/corpus/ implementation (each with a known mistake, or none).
    """
    import subprocess

    correct = (HW0 / "correct" / "simple_ml.py").read_text()
    submissions = folder / "submissions"
    for name, source in [("example_correct", correct), ("example_buggy", (HW0 / "buggy" / "simple_ml.py").read_text()),
                         *((stem, correct + "\n\n" + (ROOT / "tests" / "corpus" / f"{stem}.py").read_text())
                           for stem in CORPUS_STUDENTS)]:
        (submissions / name).mkdir(parents=True)
        (submissions / name / "simple_ml.py").write_text(source)
    spec = folder / "hw0.toml"  # the example spec, with a seed of its own instead of its secret seed file
    spec.write_text(re.sub(r"(?m)^seed_file = .*$", "seed = 2026", SPEC.read_text()))
    out = folder / "graded"
    subprocess.run([sys.executable, "-m", "gradcheck", "grade", str(submissions), "--spec", str(spec),
                    "--batch", str(out), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    return out / "index.html"


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
        page = chromium.open(class_dashboard(Path(tmp)))
        _pictures_ready(page)
        _save(chromium.png(), args.out / "dashboard.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
