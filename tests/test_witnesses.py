"""The three witnesses (closed form, JAX, finite differences) agree, and the oracle is cheap to reuse."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import oracle, witnesses
from gradcheck.compare import Verdict, compare
from gradcheck.witnesses import CLOSED_FORM, FD, JAX, agree, make_problem
from reference_mlp import Architecture, InvalidArgument, activations, mlp

SMOOTH = ("identity", "sigmoid", "tanh", "softplus", "gelu")


@st.composite
def problems(draw, hidden=st.sampled_from(activations.NAMES + ("leaky_relu:0.2",))):
    depth = draw(st.integers(1, 3))
    widths = tuple(draw(st.lists(st.integers(1, 5), min_size=depth + 1, max_size=depth + 1)))
    widths = widths[:-1] + (max(widths[-1], 2),)  # at least two classes
    arch = Architecture.build(widths, hidden=draw(hidden), bias=draw(st.booleans()))
    return make_problem(
        arch,
        m=draw(st.integers(1, 6)),
        reduction=draw(st.sampled_from(("mean", "sum"))),
        seed=draw(st.integers(0, 2**16)),
        scale=draw(st.sampled_from((0.1, 1.0, 5.0))),
    )


@settings(max_examples=40)
@given(problem=problems(), fd_method=st.sampled_from(("complex", "richardson")))
def test_the_three_witnesses_agree_on_every_gradient_of_random_networks(problem, fd_method):
    result = agree(problem, fd_method)
    failures = [c for c in result.comparisons if c.failed]
    assert not failures, "\n".join(f"{c.tensor} {c.witnesses}: {c.max_rel_err:.2e}" for c in failures)
    undecided = [c for c in result.comparisons if not c.passed]
    assert all(c.witnesses[1] == FD and "kink" in c.not_checkable_reason for c in undecided)  # only FD across a kink
    assert result.max_rel_err(CLOSED_FORM, JAX) < 1e-10


@settings(max_examples=15)
@given(problem=problems(hidden=st.sampled_from(SMOOTH)))
def test_on_smooth_networks_every_pair_agrees_to_1e_minus_8_with_the_complex_step(problem):
    result = agree(problem, "complex")
    for pair in witnesses.PAIRS:
        assert result.max_rel_err(*pair) <= 1e-8, pair
    assert result.not_checkable == 0


def test_kink_crossing_entries_are_excluded_and_counted_not_failed():
    arch = Architecture.build((6, 8, 3), hidden="relu")
    problem = make_problem(arch, m=5, seed=1)
    X, W1 = problem.X.copy(), problem.params.W[0]
    X[0, -1] -= (X[0] @ W1[:, 0] - 1e-9) / W1[-1, 0]  # pre-activation (XW₁)₀₀ = 1e-9, next to the kink
    problem = witnesses.Problem(arch, problem.params, X, problem.y, "mean", seed=1)
    result = agree(problem, "central")
    assert result.passed
    assert result.not_checkable > 0
    fd_rows = result.pair(CLOSED_FORM, FD)
    assert any("kink" in (c.not_checkable_reason or "") for c in fd_rows)


@settings(max_examples=15)
@given(problem=problems())
def test_sum_reduction_is_m_times_the_mean_for_every_witness(problem):
    mean = problem.__class__(problem.arch, problem.params, problem.X, problem.y, "mean")
    total = problem.__class__(problem.arch, problem.params, problem.X, problem.y, "sum")
    m = len(problem.X)
    for witness in (witnesses.closed_form, witnesses.jax_autodiff):
        by_mean, by_sum = witness(mean), witness(total)
        for name in by_mean:
            np.testing.assert_allclose(by_sum[name], m * by_mean[name], rtol=1e-10, atol=1e-14, err_msg=name)


def test_every_gradient_has_the_shape_of_its_tensor():
    arch = Architecture.build((5, 7, 6, 3), hidden="tanh", bias=True)
    problem = make_problem(arch, m=4)
    grads = witnesses.closed_form(problem)
    for name, value in problem.params.tensors().items():
        assert grads[name].shape == value.shape
    assert [grads[f"G{i}"].shape for i in (1, 2, 3, 4)] == [(4, 5), (4, 7), (4, 6), (4, 3)]


def test_two_layer_networks_cite_eqs_10_and_11_and_deeper_ones_eqs_14_and_15():
    two = agree(make_problem(Architecture.build((4, 5, 3), hidden="tanh"), m=3))
    numbers = {c.tensor: c.equation.number for c in two.comparisons}
    assert numbers["W1"] == "11" and numbers["W2"] == "10" and numbers["G2"] == "14"
    deep = agree(make_problem(Architecture.build((4, 5, 5, 3), hidden="tanh", bias=True), m=3))
    numbers = {c.tensor: c.equation.number for c in deep.comparisons}
    assert numbers["W1"] == "15" and numbers["b2"] == "15, bias" and numbers["G4"] == "12 + ce"


def test_a_wrong_closed_form_is_caught_by_both_other_witnesses():
    problem = make_problem(Architecture.build((4, 5, 3), hidden="sigmoid"), m=6, seed=2)
    good = witnesses.closed_form(problem)
    # σ' forgotten in Eq. 11: Xᵀ((S − I_y)W₂ᵀ) instead of Xᵀ((S − I_y)W₂ᵀ ∘ σ'(XW₁))
    G2 = good["G2"]
    missing_sigma_prime = problem.X.T @ G2
    for expected in (witnesses.jax_autodiff(problem)["W1"], witnesses.finite_differences(problem, "complex")["W1"].values):
        assert compare(missing_sigma_prime, expected, tensor="W1").verdict is Verdict.FAIL
        assert compare(good["W1"], expected, tensor="W1").verdict is Verdict.PASS


def test_the_oracle_compiles_once_per_architecture_and_batch_size():
    arch = Architecture.build((3, 4, 2), hidden="softplus", bias=(True, False))
    first = make_problem(arch, m=5, seed=1)
    before = oracle.cache_info()
    witnesses.jax_autodiff(first)
    witnesses.jax_autodiff(make_problem(arch, m=5, seed=2))
    after_same = oracle.cache_info()
    assert after_same.misses == before.misses + 1
    assert after_same.hits == before.hits + 1
    witnesses.jax_autodiff(make_problem(arch, m=6, seed=2))
    assert oracle.cache_info().misses == before.misses + 2


def test_the_oracle_answers_in_float64_even_for_float32_weights():
    problem = make_problem(Architecture.build((3, 4, 2), hidden="tanh"), m=3)
    params32 = problem.params.__class__(tuple(W.astype(np.float32) for W in problem.params.W), problem.params.b)
    grads = oracle.gradients(problem.arch, params32, problem.X.astype(np.float32), problem.y)
    assert all(g.dtype == np.float64 for g in grads.dW + grads.G)


def test_importing_the_packages_does_not_import_jax():
    code = "import sys, gradcheck, reference_mlp, gradcheck.cli; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_make_problem_rejects_bad_arguments():
    arch = Architecture.build((3, 2))
    with pytest.raises(InvalidArgument, match="reduction must be one of 'mean', 'sum'"):
        make_problem(arch, reduction="avg")
    with pytest.raises(InvalidArgument, match="m must be a positive integer"):
        make_problem(arch, m=0)
    with pytest.raises(InvalidArgument, match="Architecture"):
        make_problem((3, 2))
    with pytest.raises(InvalidArgument, match="fd_method must be one of"):
        agree(make_problem(arch), fd_method="forward")


def test_parameter_gradients_alone_equal_those_of_the_full_oracle_and_closed_form():
    problem = make_problem(Architecture.build((5, 4, 3), hidden="relu", bias=True), m=6, seed=3)
    p = problem
    full = oracle.gradients(p.arch, p.params, p.X, p.y)
    params_only = oracle.gradients(p.arch, p.params, p.X, p.y, inner=False)
    assert params_only.G == ()
    for a, b in zip(full.dW + full.db, params_only.dW + params_only.db):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-16)
    cache = mlp.forward(p.arch, p.params, p.X)
    short = mlp.backward(p.arch, p.params, cache, p.y, input_gradient=False)
    whole = mlp.backward(p.arch, p.params, cache, p.y)
    assert short.G[0] is None and all(np.array_equal(a, b) for a, b in zip(short.G[1:], whole.G[1:]))
    assert all(np.array_equal(a, b) for a, b in zip(short.dW, whole.dW))
