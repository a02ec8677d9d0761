"""The class dashboard of a batch, and each student's own report: what course staff see after ``grade --batch``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gradcheck.grader import dashboard, spec as spec_module

HERE = Path(__file__).parent
SPEC = """
[assignment]
name = "hw: two-layer gradients"
seed = 515151
time_limit = 60
memory_limit = 1024

[[check]]
name = "two-layer gradients"
file = "hw.py"
convention = "two_layer_grads"
weight = 4
"""
# A class as the corpus has them: the mistake three students make should lead the dashboard.
CLASS = {
    "alice": "two_layer_grads_correct_relu.py",
    "bob": "two_layer_grads_one_hot_off_by_one.py",
    "carol": "two_layer_grads_one_hot_off_by_one.py",
    "dave": "two_layer_grads_one_hot_off_by_one.py",
    "erin": "two_layer_grads_transposed.py",
    "frank": "two_layer_grads_transposed.py",
    "<i onclick=alert(1)>mallory": "two_layer_grads_swapped_outputs.py",  # a folder name is the student's to choose
    "gus": "two_layer_grads_unknown_clipped_gradients.py",  # wrong in ways no known mistake explains
    "hal": "two_layer_grads_unknown_labels_shifted_by_two.py",
    "ivy": None,  # submitted nothing
}


class Page(HTMLParser):
    """The rows of a page's tables (cell texts) and its links."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self._table = self._row = self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("class", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a":
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    submissions, out = root / "submissions", root / "graded"
    for name, source in CLASS.items():
        (submissions / name).mkdir(parents=True)
        if source:
            (submissions / name / "hw.py").write_text((HERE / "corpus" / source).read_text())
    (root / "spec.toml").write_text(SPEC)
    run = subprocess.run([sys.executable, "-m", "gradcheck", "grade", str(submissions), "--spec", str(root / "spec.toml"),
                          "--batch", str(out), "--jobs", "2"], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    return out, run


def test_the_dashboard_puts_the_most_frequent_mistake_first_with_its_count_and_examples(graded):
    out, _ = graded
    page = Page((out / "index.html").read_text())
    mistakes = page.tables["diagnoses"][1:]
    assert mistakes[0][0] == "3" and "(one_hot_off_by_one)" in mistakes[0][1]
    assert mistakes[0][2] == "bob, carol, dave"
    assert mistakes[1][0] == "2" and "(transposed)" in mistakes[1][1] and mistakes[1][2] == "erin, frank"
    named = [m for m in mistakes if not m[1].endswith(("(unknown)", "(did_not_run)"))]
    assert [int(m[0]) for m in named] == sorted((int(m[0]) for m in named), reverse=True)
    # what gradcheck cannot name comes after every named mistake, however frequent
    assert [(m[0], m[1].rsplit("(", 1)[1]) for m in mistakes[len(named):]] == [("2", "unknown)"), ("1", "did_not_run)")]
    assert mistakes[len(named)][2] == "gus, hal" and mistakes[-1][2] == "ivy"


def test_the_dashboard_links_every_submissions_report_and_gives_rates_scores_and_times(graded):
    out, _ = graded
    text = (out / "index.html").read_text()
    page = Page(text)
    assert page.tables["rates"][1][:2] == ["two-layer gradients", "1 / 10"]
    names = [row[0] for row in page.tables["submissions"][1:]]
    assert names == sorted(CLASS)
    for row in page.tables["submissions"][1:]:
        assert re.fullmatch(r"\d+ / 4", row[1]) and re.fullmatch(r"\d+\.\d s", row[2]) and row[3] == "report"
    reports = [link for link in page.links if link.endswith("/report.html")]
    assert "%3Ci%20onclick%3Dalert%281%29%3Emallory/report.html" in reports
    for link in reports:
        from urllib.parse import unquote

        assert (out / unquote(link)).is_file()
    assert '<img class="histogram" src="data:image/png;base64,' in text
    assert "<i onclick" not in text and "&lt;i onclick=alert(1)&gt;mallory" in text
    assert "Grader faults" not in text


def test_each_student_report_shows_the_heatmap_of_their_mistake_and_no_seed(graded):
    out, _ = graded
    bob = (out / "bob" / "report.html").read_text()
    assert 'class="badge fail">FAIL' in bob and '<img class="heatmap"' in bob and "0 / 4 points" in bob
    alice = (out / "alice" / "report.html").read_text()
    assert 'class="badge pass">PASS' in alice and '<img class="heatmap"' not in alice
    for name in CLASS:
        visible = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", (out / name / "report.html").read_text())
        assert not re.search(r"(?<!\d)515151(?!\d)", visible) and not re.search(r"seed \d", visible)


def test_grader_faults_are_listed_apart_and_left_out_of_the_scores(tmp_path):
    out = tmp_path / "graded"
    for name, (score, error) in {"ann": (4.0, None), "ben": (0.0, "the grading process died (out of memory, or killed)")}.items():
        (out / name).mkdir(parents=True)
        (out / name / "results.json").write_text(json.dumps({
            "score": score, "execution_time": 1.5, "tests": [{
                "name": "two-layer gradients", "score": score, "max_score": 4, "status": "passed" if score else "failed",
                "extra_data": {"verdict": "pass" if score else "fail", "diagnoses": [], "seconds": 1.5,
                               "grader_error": error}}]}))
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(SPEC)
    index = dashboard.write(out, spec_module.load(spec_path), ["ann", "ben"])
    page = Page(index.read_text())
    assert page.tables["faults"][1:] == [["ben", "two-layer gradients", "the grading process died (out of memory, or killed)"]]
    assert page.tables["rates"][1][:2] == ["two-layer gradients", "1 / 1"]  # ben is not a student failure
    assert page.tables["submissions"][2][1] == "grading failed"
