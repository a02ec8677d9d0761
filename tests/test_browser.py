"""The HTML reports as their readers see them: opened in headless Chromium, with no script error, no request
leaving the machine, the heatmap decoded and on screen, and hostile strings shown as text.

Skipped only where Debian's chromium or chromium-driver is missing (``.ci/run`` installs both). One
browser serves the whole module: launching it is the slow part on a busy CI machine.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

import browser
from gradcheck import adapters, html
from gradcheck.checks.conventions import check_module

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUGGY = ROOT / "examples" / "cs231n_layers" / "buggy" / "layers.py"  # σ' taken at the activation: every dx wrong
CORRECT = ROOT / "examples" / "cs231n_layers" / "correct" / "layers.py"
HOMEWORK = ROOT / "examples" / "dlsys_hw0" / "buggy" / "simple_ml.py"  # updates W1 before computing ∇W2
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"><b onmouseover=alert(3)>"
SECRET_SEED = 424242
SPEC = """
[assignment]
name = "hw0"
seed = {seed}
time_limit = 60
memory_limit = 1024

[[check]]
name = "softmax_loss"
file = "simple_ml.py"
convention = "softmax_loss"
weight = 10

[[check]]
name = "nn_epoch"
file = "simple_ml.py"
convention = "nn_epoch"
weight = 30
partial_credit = true
"""


@pytest.fixture(scope="module")
def chromium():
    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    with browser.Chromium() as opened:
        yield opened


def student_report(source: pathlib.Path, out: pathlib.Path, *, title: str | None = None,
                   command: str | None = None) -> pathlib.Path:
    """The report ``gradcheck check source --html out`` writes, written here by ``gradcheck.html`` itself."""
    module, _ = adapters.load(str(source))
    results = check_module(module, None, seed=0)
    html.write(out, [(title or source.name, r) for r in results], title=title or source.name, command=command)
    return out


def red(png: pathlib.Path, box: tuple[float, float, float, float] | None = None) -> int:
    """How many pixels of the screenshot (within ``box``: left, top, width, height) are the heatmap's reds.

    Those run from matplotlib's Reds at 0.3 (252, 171, 143) to its darkest (103, 0, 13); the greys of
    agreeing entries, the violet of unjudged ones, white and black are not red.
    """
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    if box is not None:
        left, top, width, height = (round(v) for v in box)
        pixels = pixels[top:top + height, left:left + width]
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(((r >= 90) & (r - g >= 60) & (r - b >= 50)).sum())


def assert_clean(page: browser.Page) -> None:
    """The page loaded by itself: no console error, nothing asked of the network or of other files, every
    picture a decoded data: URI."""
    __tracebackhide__ = True
    assert page.console_errors == (), f"{page.url} logged errors: {page.console_errors}"
    assert page.outside_requests == (), f"{page.url} asked the network for {page.outside_requests}"
    others = [u for u in page.requests if u != page.url and not u.startswith("data:")]
    assert others == [], f"{page.url} is not self-contained: it loads {others}"
    broken = [i for i in page.images if not i.decoded]
    assert broken == [], f"{page.url} has pictures that did not load: {broken}"
    assert all(i.src.startswith("data:") for i in page.images), [i.src for i in page.images]


def test_without_chromium_the_browser_tests_skip_naming_what_is_missing_and_what_installs_it(monkeypatch, tmp_path):
    present = pathlib.Path(sys.executable).resolve()  # stands for an installed chromium
    monkeypatch.setattr(browser, "CHROMIUM", present)
    monkeypatch.setattr(browser, "CHROMEDRIVER", tmp_path / "chromedriver")
    reason = browser.missing()
    assert reason is not None and f"{tmp_path / 'chromedriver'} (Debian package chromium-driver)" in reason
    assert ".ci/run installs" in reason and str(present) not in reason
    monkeypatch.setattr(browser, "CHROMEDRIVER", present)
    assert browser.missing() is None


def test_the_browser_catches_script_errors_broken_pictures_outside_requests_and_injected_code(chromium, tmp_path):
    # Without this, the other tests' "no error, no request" could hold because nothing was ever seen.
    page_path = tmp_path / "broken.html"
    page_path.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head><body>'
                         '<img class="heatmap" src="missing.png"><img src="http://gradcheck.invalid/pixel.png">'
                         '<img src=x onerror="alert(2)"><script>alert("boom"); throw new Error("deliberate");</script>'
                         '</body></html>')
    page = chromium.open(page_path)
    assert any("Uncaught Error: deliberate" in e for e in page.console_errors), page.console
    assert any("missing.png" in e and "ERR_FILE_NOT_FOUND" in e for e in page.console_errors), page.console
    assert page.outside_requests == ("http://gradcheck.invalid/pixel.png",), page.requests
    assert page.dialogs == ("alert: boom", "alert: 2")
    assert page.handlers == ("IMG onerror",) and len(page.scripts) == 1
    assert page.pictures("heatmap") and page.decoded("heatmap") == 0


def test_a_buggy_examples_report_opens_offline_and_shows_its_heatmap_in_red(chromium, tmp_path):
    page = chromium.open(student_report(BUGGY, tmp_path / "report.html"), screenshot=tmp_path / "report.png")
    assert_clean(page)
    assert page.dialogs == () and page.scripts == ()
    assert "FAIL" in page.text and "sigmoid_backward" in page.text
    heatmaps = page.pictures("heatmap")
    assert page.decoded("heatmap") >= 1 and page.decoded("scatter") >= 1
    # every entry of sigmoid_backward's dx is wrong: its map, as drawn on screen, is largely red
    *_, width, height = heatmaps[0].box
    assert width > 200 and height > 100, heatmaps[0]
    assert red(page.screenshot, heatmaps[0].box) > 0.15 * width * height, page.screenshot


def test_a_passing_report_shows_no_red_at_all(chromium, tmp_path):
    # The negative control of the red count above: it counts heatmap reds, not whatever is on the page.
    page = chromium.open(student_report(CORRECT, tmp_path / "report.html"), screenshot=tmp_path / "report.png")
    assert_clean(page)
    assert "PASS" in page.text and page.pictures("heatmap") == ()
    assert red(page.screenshot) == 0, page.screenshot


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A real grade of the buggy hw0 example, sandboxed, against a spec with a secret seed."""
    from gradcheck.grader import spec as spec_module
    from gradcheck.grader.grade import grade

    folder = tmp_path_factory.mktemp("graded")
    submission, source = folder / "alice", folder / "source"
    submission.mkdir(), source.mkdir()
    (submission / "simple_ml.py").write_text(HOMEWORK.read_text())
    (source / "spec.toml").write_text(SPEC.format(seed=SECRET_SEED))
    result = grade(submission, spec_module.load(source / "spec.toml"), allow_unsafe=False)
    assert not result.grading_failed, [g.grader_error for g in result.checks]
    (submission / "report.html").write_text(html.grade_page(result))
    return result, submission / "report.html"


def test_a_graded_submissions_page_opens_offline_shows_the_heatmap_and_no_secret_seed(chromium, graded, tmp_path):
    grade, report = graded
    page = chromium.open(report, screenshot=tmp_path / "grade.png")
    assert_clean(page)
    assert f"{grade.score:g} / {grade.max_score:g}" in page.text and "nn_epoch" in page.text
    assert str(SECRET_SEED) not in page.text
    heatmap = page.pictures("heatmap")[0]
    assert page.decoded("heatmap") >= 1
    assert red(page.screenshot, heatmap.box) > 0.15 * heatmap.box[2] * heatmap.box[3], page.screenshot


def dashboard_rows(grade, report: str) -> list[dict]:
    """A batch's rows (see :func:`gradcheck.html.dashboard`): ``grade``'s submission, and one the grader failed."""
    from gradcheck.diagnose import CATALOG

    checks = {g.check.name: {"passed": g.status == "passed",
                             "diagnoses": [(bug, CATALOG[bug].cause) for bug in g.result.diagnoses] if g.result else []}
              for g in grade.checks}
    return [{"name": "alice", "score": grade.score, "seconds": grade.seconds, "report": report, "grader_errors": {},
             "checks": checks},
            {"name": "bob", "score": None, "seconds": 0.5, "report": None,
             "grader_errors": {"nn_epoch": "the sandbox did not start"}, "checks": {}}]


def test_the_class_dashboard_opens_offline_with_its_histogram_and_links_to_reports(chromium, graded):
    grade, report = graded
    index = report.parent.parent / "index.html"
    index.write_text(html.dashboard(dashboard_rows(grade, "alice/report.html"), assignment="hw0",
                                    checks=[g.check.name for g in grade.checks], max_score=grade.max_score))
    page = chromium.open(index)
    assert_clean(page)
    assert page.decoded("histogram") == 1
    assert report.as_uri() in page.links
    assert all(link.startswith("file:") and pathlib.Path(link.removeprefix("file://")).is_file()
               for link in page.links), page.links
    assert "the sandbox did not start" in page.text and "alice" in page.text
    assert str(SECRET_SEED) not in page.text


def test_hostile_strings_show_as_text_and_run_nothing(chromium, tmp_path):
    # A student's error message, file and check names reach pages that course staff open.
    source = CORRECT.read_text()
    assert "def tanh_backward(dout, cache):\n" in source
    hostile = tmp_path / "hostile_layers.py"
    hostile.write_text(source.replace("def tanh_backward(dout, cache):\n",
                                      f"def tanh_backward(dout, cache):\n    raise ValueError({HOSTILE!r})\n"))
    report = student_report(hostile, tmp_path / "report.html", title=HOSTILE, command=HOSTILE)
    rows = [{"name": HOSTILE, "score": 1.0, "seconds": 1.0, "report": HOSTILE, "grader_errors": {},
             "checks": {HOSTILE: {"passed": False, "diagnoses": [(HOSTILE, HOSTILE)]}}},
            {"name": "bob", "score": None, "seconds": 0.5, "report": None, "grader_errors": {HOSTILE: HOSTILE},
             "checks": {}}]
    dashboard = tmp_path / "index.html"
    dashboard.write_text(html.dashboard(rows, assignment=HOSTILE, checks=[HOSTILE], max_score=4))
    for path in (report, dashboard):
        page = chromium.open(path)
        assert_clean(page)
        assert page.dialogs == () and page.scripts == () and page.handlers == (), path
        assert HOSTILE in page.text, path  # shown, character for character
        if path == report:
            assert f"ValueError: {HOSTILE}" in page.text  # the submission's own error message
    assert page.title == f"gradcheck: {HOSTILE}, class dashboard"
