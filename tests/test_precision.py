"""Code is judged at the precision it computes in, measured by a nudge below float32's resolution."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck import precision, problems
from gradcheck.checks import check_nn_epoch, check_two_layer_grads
from gradcheck.compare import Verdict
from gradcheck.precision import F32, F64, Precision
from reference_mlp.mlp import Architecture


def relu_grads(*, compute=np.float64, result=np.float64, one_hot=None, bug=1.0):
    """Eqs. 10 and 11 for ReLU as a student writes them, computing in ``compute`` and returning ``result``."""
    def two_layer_grads(X, y, W1, W2):
        X, W1, W2 = X.astype(compute), W1.astype(compute), W2.astype(compute)
        H = np.maximum(X @ W1, 0)
        Z = H @ W2
        S = np.exp(Z - Z.max(axis=1, keepdims=True))
        S = S / S.sum(axis=1, keepdims=True)
        I_y = np.zeros((len(y), W2.shape[1]), dtype=one_hot or compute)  # np.zeros is float64 unless told
        I_y[np.arange(len(y)), y] = 1
        G = (S - I_y) / len(y)
        dW1 = X.T @ ((G @ W2.T) * (X @ W1 > 0))
        return (bug * dW1).astype(result), (H.T @ G).astype(result)
    return two_layer_grads


def test_float32_arithmetic_inside_float64_inputs_and_outputs_passes_and_is_named():
    result = check_two_layer_grads(relu_grads(compute=np.float32))
    assert result.passed, result.render()
    assert "computes in float32" in result.precision and "judged with the float32 tolerance" in result.precision
    assert "precision: your two_layer_grads computes in float32" in result.render()


def test_float32_arithmetic_with_a_one_percent_bug_still_fails():
    result = check_two_layer_grads(relu_grads(compute=np.float32, bug=1.01))
    assert result.verdict is Verdict.FAIL and any(c.tensor == "W1" for c in result.failures)


def test_float64_arithmetic_cast_to_float32_is_judged_as_float64_rounded_once():
    right = check_two_layer_grads(relu_grads(result=np.float32))
    assert right.passed and "computes in float64 but returns float32 values" in right.precision
    wrong = check_two_layer_grads(relu_grads(result=np.float32, bug=1 + 5e-5))  # within float32's own tolerance
    assert wrong.verdict is Verdict.FAIL


def test_a_float16_result_never_buys_more_than_float32s_tolerance():
    assert check_two_layer_grads(relu_grads(result=np.float16)).verdict is Verdict.FAIL


def test_float32_inputs_with_a_float64_one_hot_are_judged_as_float32():
    result = check_two_layer_grads(relu_grads(compute=np.float32, one_hot=np.float64), dtype=np.float32)
    assert result.passed, result.render()


def test_casting_a_single_input_to_float32_is_seen():
    def casts_w1_only(X, y, W1, W2):
        return relu_grads()(X, y, W1.astype(np.float32).astype(np.float64) * 1.0 + 0 * W1, W2)

    def partly(X, y, W1, W2):
        H = np.maximum(X @ W1.astype(np.float32), 0)  # float32 product, float64 from here on
        Z = H.astype(np.float64) @ W2
        S = np.exp(Z - Z.max(axis=1, keepdims=True))
        S /= S.sum(axis=1, keepdims=True)
        S[np.arange(len(y)), y] -= 1
        S /= len(y)
        return X.T @ ((S @ W2.T) * (H > 0)), H.T @ S

    result = check_two_layer_grads(partly)
    assert result.passed and "when W1 moves by less than float32 can resolve" in result.precision
    assert "computes in float32" in check_two_layer_grads(casts_w1_only).precision  # a round trip drops W1's low bits


def test_an_epoch_computing_in_float32_is_told_apart_from_its_float64_in_place_update():
    def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
        for start in range(0, len(X), batch):
            Xb, yb = X[start:start + batch].astype(np.float32), y[start:start + batch]
            dW1, dW2 = relu_grads(compute=np.float32)(Xb, yb, W1.astype(np.float32), W2.astype(np.float32))
            W1 -= lr * dW1  # float32 step, float64 weights
            W2 -= lr * dW2

    result = check_nn_epoch(nn_epoch)
    assert result.passed, result.render()
    assert "your nn_epoch computes in float32" in result.precision


@pytest.mark.parametrize("computes_in, returns, rtol", [(F32, F32, 1e-4), (F32, F64, 1e-4), (F64, F32, 16 * 2.0**-24),
                                                       (F64, F64, 1e-8)])
def test_the_tolerance_follows_the_arithmetic_not_the_returned_type(computes_in, returns, rtol):
    assert Precision(computes_in, returns, "").tolerance.rtol == rtol


def test_large_logits_widen_float32s_tolerance_by_their_rounding_only():
    f32, f64 = Precision(F32, F64, ""), Precision(F64, F64, "")
    assert f32.tolerance_at(1.0).rtol == 1e-4 and f64.tolerance_at(1000.0).rtol == 1e-8
    assert f32.tolerance_at(1000.0).rtol == pytest.approx(4 * 2.0**-24 * 1000)


def test_the_generated_inputs_hold_float32_values_so_a_cast_loses_nothing():
    for case in problems.cases(lambda w: Architecture.build(w, hidden="relu"), depth=2, seed=3):
        p = case.problem
        for a in (p.X, *p.params.W):
            assert a.dtype == np.float64 and np.array_equal(a.astype(np.float32), a)


def test_nothing_is_probed_when_the_inputs_are_float32_already():
    problem = problems.draw(Architecture.build((4, 5, 3), hidden="relu"), m=6, seed=0, dtype=np.float32)
    calls = []
    measured = precision.probe(lambda p: calls.append(p) or [np.zeros(3)], problem)
    assert measured.computes_in == F32 and not calls
