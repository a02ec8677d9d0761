"""The rendered comparison: what a user reads when a gradient is wrong."""

from __future__ import annotations

import re

import numpy as np

from gradcheck import equations
from gradcheck.compare import compare
from gradcheck.finite_diff import KINK_REASON
from gradcheck.report import render, summary, table


def failing():
    expected = np.arange(1.0, 13.0).reshape(3, 4) / 10
    actual = expected.copy()
    actual[2, 1] = -actual[2, 1]
    actual[0, 3] *= 1.01
    return compare(
        actual, expected, tensor="W1", witnesses=("yours", "JAX"), equation=equations.EQ11,
        problem="4-5-3 sigmoid, m=8, mean", seed=42,
    )


def test_a_failure_report_has_its_layout_line_by_line():
    lines = render(failing()).splitlines()
    patterns = [
        r"FAIL W1 \(3, 4\) float64: yours vs JAX disagree on 2 of 12 checked entries$",
        r"  Eq\. 11: ∇W₁ = Xᵀ \(\(S − I_y\) W₂ᵀ ∘ σ'\(XW₁\)\)$",
        r"  problem: 4-5-3 sigmoid, m=8, mean, seed 42$",
        r"  tolerance: rtol=1e-08 of max\(\|JAX\|, 1\.2e-05\), so at least 1\.2e-13 absolute \(1\.2e-05 = 1e-05 x max\|JAX\|\)$",
        r"  Mismatched elements: 2 / 12 \(16\.7%\)$",
        r"  Max absolute difference: 2$",
        r"  Max relative difference: 2$",
        r"  worst entries:$",
        r"    index\s+yours\s+JAX\s+abs err\s+rel err$",
        r"    -+  -+  -+  -+  -+$",
        r"    \(2, 1\)\s+-1\s+1\s+2\.00e\+00\s+2\.00e\+00$",
        r"    \(0, 3\)\s+0\.404\s+0\.4\s+4\.00e-03\s+1\.00e-02$",
    ]
    assert len(lines) == len(patterns), "\n".join(lines)
    for line, pattern in zip(lines, patterns):
        assert re.match(pattern, line), f"{line!r} !~ {pattern!r}"


def test_the_first_line_stands_alone_as_the_summary():
    c = failing()
    assert render(c).splitlines()[0] == summary(c)


def test_a_pass_is_one_line_of_summary_and_its_numbers_without_a_table():
    c = compare(np.ones((2, 2)), np.ones((2, 2)), tensor="b2", witnesses=("closed form", "JAX"))
    text = render(c)
    assert text.splitlines()[0] == "PASS b2 (2, 2) float64: closed form vs JAX agree on all 4 checked entries (max rel err 0.0e+00)"
    assert "worst entries" not in text


def test_a_shape_mismatch_report_names_both_shapes():
    c = compare(np.ones((4, 3)), np.ones((3, 4)), tensor="W2", witnesses=("yours", "JAX"), equation=equations.EQ10)
    first, *rest = render(c).splitlines()
    assert first == "FAIL W2 (3, 4) float64: yours vs JAX: shape mismatch: expected (3, 4), got (4, 3) (it looks transposed)"
    assert "Eq. 10" in rest[0]


def test_not_checkable_entries_are_reported_with_their_reason():
    mask = np.array([True, False, False])
    c = compare(np.ones(3), np.ones(3), tensor="b1", checkable=mask, not_checkable_reason=KINK_REASON)
    assert f"  Not checkable: 2 of 3 entries ({KINK_REASON})" in render(c).splitlines()


def test_a_table_right_aligns_the_columns_it_is_told_to():
    text = table(["name", "n"], [["a", "1"], ["bbb", "100"]], right=[False, True])
    assert text.splitlines() == ["name    n", "----  ---", "a       1", "bbb   100"]


def test_a_scalar_comparison_prints_no_shape():
    line = summary(compare(1.0, 1.0, tensor="W1·v1", witnesses=("yours", "finite differences")))
    assert line.startswith("PASS W1·v1 float64: yours vs finite differences agree")


def test_the_tolerance_line_states_the_absolute_tolerance_small_entries_get():
    expected = np.array([1.0, 1e-3, 0.0], dtype=np.float32)
    line = next(l for l in render(compare(expected, expected, tensor="b1")).splitlines() if "tolerance" in l)
    assert line == "  tolerance: rtol=0.0001 of max(|expected|, 0.1), so at least 1e-05 absolute (0.1 = 0.1 x max|expected|)"
