"""bench/RESULTS.md says what gradcheck's rows would say now: counted evaluations and detection, not timings.

The peers' rows need the bench extra (torch, numdifftools) and minutes; gradcheck's own rows are seeded and
deterministic, so they are recomputed here and must match the committed results cell for cell.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = (ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8")
MNIST = "MNIST 64×784-128-10"


@pytest.fixture(scope="module")
def peers():
    spec = importlib.util.spec_from_file_location("peers", ROOT / "bench" / "peers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["peers"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("peers", None)


def section(title: str) -> str:
    return re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", RESULTS, re.S | re.M).group(1)


def row(text: str, problem: str, checker: str, table: int) -> list[str]:
    """The cells of ``checker``'s row for ``problem`` in the ``table``-th table of a section."""
    block = re.findall(r"```\n(.*?)```", text, re.S)[table]
    line = next(line for line in block.splitlines() if line.startswith(problem) and f"  {checker}  " in line)
    return re.split(r"\s{2,}", line.strip())


def test_the_same_information_counts_are_what_verify_spends_now(peers):
    text = section("Same information: the checker knows the network")
    m, widths = peers.SIZES[MNIST]
    p = peers.problem(widths, m, seed=0)
    for name in ("gradcheck verify (default: auto)", "gradcheck verify (witness='all')"):
        _, counts, verdict = peers.timed(peers.SAME_INFORMATION[name], p, peers.correct, 1)
        cells = row(text, f"{MNIST} float64", name, 0)
        assert cells[3:7] == [str(counts.forward), str(counts.backward), str(counts.tails), str(counts.autodiff)]
        assert verdict and cells[-1] == "passes"


def test_the_black_box_evaluations_are_what_check_gradient_spends_now(peers):
    text = section("Black box: only the loss and the claimed gradient")
    m, widths = peers.SIZES[MNIST]
    p = peers.problem(widths, m, seed=0)
    _, counts, verdict = peers.timed(peers.BLACK_BOX[peers.OURS].check, p, peers.correct, 1)
    cells = row(text, f"{MNIST} float64", peers.OURS, 0)
    assert cells[3] == f"{counts.f:,}" and verdict and cells[-1] == "passes"
    slow = row(text, f"{MNIST} float64", "torch gradcheck, slow", 0)
    assert int(slow[3].replace(",", "")) >= 1000 * counts.f


@pytest.mark.parametrize("title, checker, checkers", [
    ("Same information: the checker knows the network", "gradcheck verify (default: auto)", "SAME_INFORMATION"),
    ("Black box: only the loss and the claimed gradient", "gradcheck check_gradient", "BLACK_BOX"),
])
def test_gradchecks_detection_rows_are_what_it_detects_now(peers, title, checker, checkers):
    text = section(title)
    cases = int(re.search(r"False alarms: (\d+) correct cases", text).group(1))
    plants = int(re.search(r"Planted bugs: (\d+) random entries", text).group(1))
    check = getattr(peers, checkers)[checker]
    check = getattr(check, "check", check)
    m, widths = peers.SIZES[MNIST]
    cells, _ = peers.detection(checker, check, MNIST, m, widths, peers.np.float64, cases, plants, "test")
    assert row(text, f"{MNIST} float64", checker, 1)[2:8] == cells


def test_the_readme_quotes_the_time_the_full_bench_took():
    took = re.search(r"Regenerate with `python bench/peers.py` \((\d+\.\d) minutes", RESULTS).group(1)
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"took {took} minutes" in readme
