"""The HTML reports and the result objects' rendering: what a page shows, what it never shows, what it never loads."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from gradcheck import adapters, html, make_problem, verify
from gradcheck.checks.conventions import check_module
from gradcheck.checks.result import GradientMismatch, Inconclusive
from gradcheck.compare import compare
from reference_mlp.mlp import Architecture

ROOT = Path(__file__).parents[1]
BUGGY = ROOT / "examples" / "cs231n_layers" / "buggy" / "layers.py"
CORRECT = ROOT / "tests" / "corpus" / "two_layer_grads_correct_relu.py"


def results_of(path: Path):
    module, _ = adapters.load(str(path))
    return [(path.name, r) for r in check_module(module, None, seed=0)]


@pytest.fixture(scope="module")
def buggy():
    return results_of(BUGGY)


def test_a_failing_check_shows_its_verdict_equation_cause_heatmap_worst_entries_and_replay(buggy):
    page = html.page(buggy, title="layers.py", replay=lambda test, r: f"gradcheck check {test} --seed {r.seed}")
    (name, result), = buggy
    failing = result.failures[0]
    assert 'class="badge fail">FAIL' in page
    assert html_text(str(failing.equation)) in page
    assert html_text(failing.diagnosis) in page
    assert re.search(r'<img class="heatmap" src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)
    assert re.search(r'<img class="scatter" src="data:image/png;base64,', page)
    assert f"[{', '.join(map(str, failing.worst[0].index))}]" in page  # the worst entry's index
    assert "gradcheck check layers.py --seed 0" in page
    assert html_text(failing.problem) in page and "seed 0" in page
    # every function's verdict, the failing ones first in nothing but their own words
    for function, verdict, _ in result.functions():
        assert re.search(rf'class="badge {verdict.value}">{verdict.value.upper()}</span></td><td><code>{function}</code>', page)


def test_a_passing_check_draws_no_heatmap_and_lists_what_agreed():
    results = results_of(CORRECT)
    page = html.page(results, title="ok")
    assert 'class="badge pass">PASS' in page and "heatmap" not in page.split("<main")[1].split("Heatmaps:")[0]
    assert f"{len(results[0][1].comparisons)} comparisons agree" in page


def test_a_page_makes_no_request_outside_itself(buggy):
    assert outside('<img src="http://cdn/x.png"><style>b { background: url(https://f/y) }</style><a href="#top">') \
        == ["http://cdn/x.png", "https://f/y"]  # what the test would catch
    page = html.page(buggy, title="layers.py")
    assert outside(page) == []
    assert "script" not in _Markup(page).tags  # nothing runs: the page is text and pictures


def test_strings_from_user_code_are_shown_as_text_never_as_markup():
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    truth = np.random.default_rng(0).standard_normal((4, 3))
    record = dataclasses.replace(compare(truth + 1, truth, tensor=hostile), note=hostile, diagnosis=hostile,
                                 problem=hostile)
    (name, result), = results_of(CORRECT)
    result = dataclasses.replace(result, target=hostile, comparisons=(record,), unsupported=(hostile,))
    page = html.page([(hostile, result)], title=hostile, replay=lambda *_: hostile, command=hostile)
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    markup = _Markup(page)
    assert "script" not in markup.tags and outside(page) == [] and markup.tags.count("img") == 2  # heatmap, scatter


def test_a_verification_prints_as_its_report_and_raises_what_it_found():
    problem = make_problem(Architecture.build((6, 5, 3), hidden="relu", bias=True), m=8, seed=2)
    from gradcheck import witnesses

    right = {k: v for k, v in witnesses.closed_form(problem).items() if k in ("W1", "b1", "W2", "b2")}
    passed = verify(problem, right)
    assert str(passed).startswith("verify: PASS, all") and passed.raise_if_failed() is passed
    assert repr(passed) == f"<Verification {passed.headline()}>"
    wrong = dict(right, W1=right["W1"] * -1)
    failed = verify(problem, wrong)
    text = str(failed)
    assert text.startswith("verify: FAIL") and "W1" in text and "worst entries" in text and len(text) < 20_000
    with pytest.raises(GradientMismatch, match="verify: FAIL"):
        failed.raise_if_failed()
    view = failed._repr_html_()
    assert view.startswith('<div class="gradcheck">') and '<img class="heatmap"' in view and "<html" not in view
    assert "<img" not in passed._repr_html_()


def test_an_inconclusive_verification_raises_inconclusive():
    problem = make_problem(Architecture.build((4, 3), hidden="identity", bias=False), m=5, seed=0)
    from gradcheck import witnesses
    from gradcheck.compare import Verdict

    result = verify(problem, {"W1": witnesses.closed_form(problem)["W1"]})
    undecided = dataclasses.replace(result, comparisons=tuple(
        dataclasses.replace(c, checked=0, not_checkable=c.size) for c in result.comparisons))
    assert undecided.verdict is Verdict.INCONCLUSIVE
    with pytest.raises(Inconclusive):
        undecided.raise_if_failed()


def test_a_check_result_prints_as_its_report_and_renders_inline(buggy):
    (_, result), = buggy
    assert str(result) == result.render()
    assert repr(result) == f"<CheckResult {result.headline()}>"  # not pages of records
    assert '<img class="heatmap"' in result._repr_html_()


class _Markup(HTMLParser):
    """The tags of a page and every address an attribute or a style would load."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[str] = []
        self.addresses: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.addresses += [v for k, v in attrs if k in ("src", "href", "action", "poster", "data", "srcset") and v]

    def handle_data(self, data):
        if self.tags and self.tags[-1] == "style":
            self.addresses += re.findall(r"url\(\s*['\"]?([^'\")]+)", data) + re.findall(r"@import\s+['\"]?([^'\";]+)", data)


def outside(page: str) -> list[str]:
    """Everything the page would request that is not inside it (a data: URI or an anchor)."""
    return [a for a in _Markup(page).addresses if not a.startswith(("data:", "#"))]


def html_text(text: str) -> str:
    import markupsafe

    return str(markupsafe.escape(text))


def gradcheck_command(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "gradcheck", *args], capture_output=True, text=True, timeout=600)


def test_check_html_writes_the_page_with_each_checks_replay_command(tmp_path):
    path = tmp_path / "report.html"
    run = gradcheck_command("check", str(BUGGY), "--html", str(path), "--seed", "2", "--lr", "0.5")
    assert run.returncode == 1 and f"html report written to {path}" in run.stdout
    page = path.read_text()
    assert '<img class="heatmap"' in page and f"gradcheck check {BUGGY} --lr 0.5 --seed 2" in page
    assert f"gradcheck check {BUGGY} --html {path} --seed 2 --lr 0.5" in page  # the command that wrote it


def test_html_to_standard_output_leaves_it_the_page_alone(tmp_path):
    run = gradcheck_command("check", str(CORRECT), "--html", "-")
    assert run.returncode == 0 and run.stdout.startswith("<!DOCTYPE html>") and run.stdout.rstrip().endswith("</html>")
    assert "two_layer_grads: PASS" in run.stderr and not (Path.cwd() / "-").exists()
    both = gradcheck_command("check", str(CORRECT), "--html", "-", "--report", "-")
    assert both.returncode == 2 and "both write to standard output" in both.stderr
