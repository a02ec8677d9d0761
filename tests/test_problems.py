"""The generated problems: shapes drawn from the seed, each case still there for what it catches."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import problems
from gradcheck.checks import check_mlp_grads, check_nn_epoch
from gradcheck.compare import Verdict
from reference_mlp.mlp import Architecture

CORPUS = pathlib.Path(__file__).parent / "corpus"


def corpus(name: str):
    spec = importlib.util.spec_from_file_location(f"corpus_{name}", CORPUS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), depth=st.one_of(st.none(), st.integers(1, 5)))
def test_every_non_square_case_has_all_sizes_different_and_the_square_case_all_equal(seed, depth):
    for name, shape in problems.shapes(seed, depth).items():
        sizes = (*shape.widths, shape.m)
        if name == "square":
            assert len(set(sizes)) == 1
        else:
            assert len(set(sizes)) == len(sizes) and shape.widths[-1] >= 3  # a missing class leaves two
        assert max(sizes) <= 13 and (depth is None or len(shape.widths) == depth + 1)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_without_a_fixed_depth_one_problem_is_deep_and_one_shallow(seed):
    drawn = problems.shapes(seed)
    assert len(drawn["non-square"].widths) - 1 >= 4 and len(drawn["square"].widths) - 1 <= 3


def test_another_seed_draws_other_shapes_so_a_hidden_seed_hides_them():
    assert len({tuple(problems.shapes(seed)["non-square"].widths) for seed in range(20)}) > 10
    assert len({problems.shapes(seed)["non-square"].m for seed in range(20)}) > 3


def test_the_cases_are_built_with_the_drawn_shapes():
    for case in problems.cases(lambda w: Architecture.build(w, hidden="tanh"), depth=None, seed=5):
        shape = problems.shapes(5)[case.name]
        assert case.problem.arch.widths == shape.widths and len(case.problem.X) == shape.m


@pytest.mark.parametrize("seed", range(4))
def test_a_bug_that_only_shows_from_four_layers_on_fails_for_every_seed(seed):
    buggy = corpus("mlp_grads_bug_only_at_depth_4").mlp_grads
    assert check_mlp_grads(buggy, seed=seed).verdict is Verdict.FAIL
    assert check_mlp_grads(buggy, seed=seed, depth=3).passed  # what a fixed depth of 3 let through


@pytest.mark.parametrize("seed", range(3))
def test_code_right_only_at_one_batch_size_fails(seed):
    from gradcheck.checks import check_two_layer_grads

    assert check_two_layer_grads(corpus("two_layer_grads_hard_coded_m").two_layer_grads, seed=seed).verdict is Verdict.FAIL


def test_an_epoch_is_never_a_multiple_of_its_batch_and_one_is_shorter_than_a_batch():
    sizes = []

    def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
        sizes.append((len(X), batch))
        corpus("nn_epoch_correct").nn_epoch(X, y, W1, W2, lr=lr, batch=batch)

    assert check_nn_epoch(nn_epoch, batch=8, seed=3).passed
    epochs = [(m, b) for m, b in sizes if b == 8]
    assert any(m > b and m % b for m, b in epochs) and any(m < b for m, b in epochs)
