"""compare(): one frozen record per tensor, dtype-aware and scale-invariant."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradcheck import equations
from gradcheck.compare import TOLERANCES, Comparison, Verdict, compare, tolerance_for
from reference_mlp import InvalidArgument

RNG = np.random.default_rng(0)
EXPECTED = RNG.standard_normal((4, 6))


def test_identical_tensors_pass_with_zero_error():
    c = compare(EXPECTED.copy(), EXPECTED, tensor="W1")
    assert c.verdict is Verdict.PASS and c.passed
    assert (c.max_abs_err, c.max_rel_err, c.mismatches, c.checked) == (0.0, 0.0, 0, 24)


def test_a_wrong_entry_is_counted_located_and_shown_with_both_values():
    actual = EXPECTED.copy()
    actual[2, 5] += 0.5
    c = compare(actual, EXPECTED, tensor="W1", witnesses=("yours", "JAX"), equation=equations.eq15(1), seed=7)
    assert c.verdict is Verdict.FAIL
    assert c.mismatches == 1
    worst = c.worst[0]
    assert worst.index == (2, 5)
    assert (worst.actual, worst.expected) == (actual[2, 5], EXPECTED[2, 5])
    assert worst.abs_err == pytest.approx(0.5)
    assert worst.rel_err == pytest.approx(0.5 / abs(EXPECTED[2, 5]))
    assert c.witnesses == ("yours", "JAX") and c.seed == 7 and c.equation.number == "15"


def test_worst_entries_are_the_violations_ranked_by_relative_error():
    actual = EXPECTED.copy()
    actual[0, 0] *= 1.1
    actual[1, 1] *= 3.0
    actual[3, 2] *= 1.5
    c = compare(actual, EXPECTED, tensor="W1", worst=2)
    assert [e.index for e in c.worst] == [(1, 1), (3, 2)]


def test_a_transposed_gradient_fails_on_shape_and_says_it_looks_transposed():
    c = compare(EXPECTED.T, EXPECTED, tensor="W1")
    assert c.verdict is Verdict.FAIL
    assert c.expected_shape == (4, 6) and c.actual_shape == (6, 4)
    assert "looks transposed" in c.note


def test_nan_in_the_gradient_is_a_failure_never_a_pass():
    actual = EXPECTED.copy()
    actual[1, 1] = np.nan
    c = compare(actual, EXPECTED, tensor="W1")
    assert c.verdict is Verdict.FAIL and c.mismatches == 1 and "NaN" in c.note
    assert c.worst[0].index == (1, 1)


def test_entries_a_witness_could_not_estimate_are_excluded_and_counted():
    expected = EXPECTED.copy()
    expected[0, :] = np.nan
    actual = EXPECTED + 1.0  # wrong everywhere, but row 0 is not judged
    mask = np.ones(EXPECTED.shape, bool)
    mask[1, 2] = False
    c = compare(actual, expected, tensor="W1", checkable=mask, not_checkable_reason="kink")
    assert c.not_checkable == 7 and c.checked == 17 and c.mismatches == 17


def test_a_tensor_with_no_checkable_entry_is_inconclusive_rather_than_passed():
    c = compare(EXPECTED, EXPECTED, tensor="W1", checkable=np.zeros(EXPECTED.shape, bool))
    assert c.verdict is Verdict.INCONCLUSIVE and not c.passed and not c.failed


def test_a_tensor_judged_on_fewer_than_half_its_entries_is_inconclusive_and_on_half_it_passes():
    mask = np.zeros(EXPECTED.shape, bool)
    mask.flat[: EXPECTED.size // 2 - 1] = True
    assert compare(EXPECTED, EXPECTED, tensor="W1", checkable=mask).verdict is Verdict.INCONCLUSIVE
    mask.flat[: EXPECTED.size // 2] = True
    assert compare(EXPECTED, EXPECTED, tensor="W1", checkable=mask).verdict is Verdict.PASS


def test_a_wrong_entry_among_few_judged_ones_still_fails():
    mask = np.zeros(EXPECTED.shape, bool)
    mask[0, 0] = True
    wrong = EXPECTED.copy()
    wrong[0, 0] *= 3
    assert compare(wrong, EXPECTED, tensor="W1", checkable=mask).verdict is Verdict.FAIL


def test_a_witness_uncertainty_widens_the_allowance_of_its_entry_only():
    actual = EXPECTED + 1e-6
    strict = compare(actual, EXPECTED, tensor="W1")
    lenient = compare(actual, EXPECTED, tensor="W1", uncertainty=np.full(EXPECTED.shape, 2e-6))
    assert strict.verdict is Verdict.FAIL and lenient.verdict is Verdict.PASS
    assert lenient.max_abs_err == strict.max_abs_err  # reported errors are not softened


def test_tolerance_follows_the_least_precise_dtype():
    assert tolerance_for(np.float64, np.float64) is TOLERANCES[np.dtype(np.float64)]
    assert tolerance_for(np.float32, np.float64) is TOLERANCES[np.dtype(np.float32)]
    assert tolerance_for(np.int64, np.complex128) is TOLERANCES[np.dtype(np.float64)]
    assert all(t.noise for t in TOLERANCES.values())
    # float32 rounding passes against a float64 reference, and fails a float64 one
    rounded = EXPECTED.astype(np.float32)
    assert compare(rounded, EXPECTED, tensor="W1").verdict is Verdict.PASS
    assert compare(rounded.astype(np.float64), EXPECTED, tensor="W1").verdict is Verdict.FAIL


def test_entries_that_are_zero_up_to_rounding_are_judged_against_the_floor():
    expected = np.array([1.0, 1e-17])
    actual = np.array([1.0, -3e-17])
    c = compare(actual, expected, tensor="b1")
    assert c.verdict is Verdict.PASS and c.max_rel_err < 1e-10


@settings(max_examples=50)
@given(
    expected=arrays(np.float64, st.integers(1, 20), elements=st.floats(-10, 10, allow_subnormal=False)),
    noise=st.one_of(st.floats(1e-12, 1e-9), st.floats(1e-5, 1.0)),  # clear of the rtol boundary
    m=st.integers(2, 500),
)
def test_scaling_both_witnesses_by_m_never_changes_the_verdict_or_relative_error(expected, noise, m):
    actual = expected * (1 + noise)
    base = compare(actual, expected, tensor="W1")
    scaled = compare(actual * m, expected * m, tensor="W1")
    assert scaled.verdict == base.verdict
    assert scaled.max_rel_err == pytest.approx(base.max_rel_err, rel=1e-3, abs=1e-14)


def test_the_record_is_frozen_and_the_inputs_are_untouched():
    actual = EXPECTED + 1
    before = actual.copy()
    c = compare(actual, EXPECTED, tensor="W1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.mismatches = 0  # type: ignore[misc]
    np.testing.assert_array_equal(actual, before)
    assert isinstance(c, Comparison)


def test_values_that_are_not_numbers_raise_a_helpful_error():
    with pytest.raises(InvalidArgument, match="yours W1 must hold numbers"):
        compare(np.array(["x"] * 3), np.ones(3), tensor="W1", witnesses=("yours", "JAX"))
    with pytest.raises(InvalidArgument, match="checkable must have the expected shape"):
        compare(np.ones(3), np.ones(3), tensor="W1", checkable=np.ones(2, bool))


def test_a_narrow_or_exotic_float_type_never_buys_a_looser_tolerance():
    off = EXPECTED * 1.005  # 0.5% too large
    for dtype in (np.float16, np.longdouble):
        assert compare(off.astype(dtype), EXPECTED, tensor="W1").verdict is Verdict.FAIL
    assert tolerance_for(np.float16) is TOLERANCES[np.dtype(np.float32)]
    assert tolerance_for(np.longdouble) is TOLERANCES[np.dtype(np.float64)]
    with pytest.raises(InvalidArgument, match="uncertainty must be a number or have the expected shape"):
        compare(EXPECTED, EXPECTED, tensor="W1", uncertainty=np.ones(3))


def test_a_passing_tensor_keeps_the_entry_closest_to_failing():
    actual = EXPECTED.copy()
    actual[2, 3] *= 1 + 1e-10  # within rtol, the largest relative error
    c = compare(actual, EXPECTED, tensor="W1")
    assert c.passed and len(c.worst) == 1
    assert c.worst[0].index == (2, 3) and c.max_rel_err == pytest.approx(1e-10, rel=1e-3)


def test_the_largest_uncertainty_added_is_recorded_as_the_allowance():
    spread = np.zeros(EXPECTED.shape)
    spread[1, 1] = 3e-7
    assert compare(EXPECTED, EXPECTED, tensor="W1", uncertainty=spread).allowance == 3e-7
    assert compare(EXPECTED, EXPECTED, tensor="W1").allowance == 0.0


@pytest.mark.parametrize("case", ["passing", "zeros", "one entry off", "nan", "infinite", "float32"])
def test_a_large_tensor_compared_in_chunks_gives_the_record_of_the_whole_comparison(case, monkeypatch):
    from gradcheck import compare as module

    rng = np.random.default_rng(7)
    expected = rng.standard_normal((300, 70))  # 21,000 entries: several chunks and a partial one
    expected[4, 5] = 0.0
    actual = expected * (1 + rng.uniform(-1e-12, 1e-12, expected.shape))
    if case == "zeros":
        expected, actual = np.zeros_like(expected), np.zeros_like(expected)
    elif case == "one entry off":
        actual[200, 3] *= 1 + 1e-6
    elif case in ("nan", "infinite"):
        actual[150, 60] = np.nan if case == "nan" else np.inf
    elif case == "float32":
        actual = expected.astype(np.float32)
    chunked = compare(actual, expected, tensor="W1")
    monkeypatch.setattr(module, "CHUNK", 10**9)
    whole = compare(actual, expected, tensor="W1")
    assert repr(chunked) == repr(whole)
    assert chunked.verdict is (Verdict.PASS if case in ("passing", "zeros", "float32") else Verdict.FAIL)
