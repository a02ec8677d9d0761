"""Diagnoses are never confidently wrong: a mistake is named only when it explains every case."""

from __future__ import annotations

import importlib.util
import pathlib
import re

import numpy as np
import pytest

from gradcheck import diagnose
from gradcheck.checks.conventions import check_module
from gradcheck.compare import TOLERANCES, tolerances
from gradcheck.diagnose import Diagnosis, Trial, known, settle

CORPUS = pathlib.Path(__file__).parent / "corpus"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"corpus_{name}", CORPUS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def case(applies: set[str], fits: set[str], failed: bool = True) -> Trial:
    return Trial(frozenset(applies), {k: known("sign_flip", k) for k in fits}, Diagnosis(None, "the evidence"), failed)


def test_a_mistake_that_fits_one_case_but_not_another_where_it_applies_is_not_named():
    found = settle([case({"a", "b"}, {"a", "b"}), case({"a", "b"}, {"b"})])
    assert [d.evidence for d in found] == ["b", "b"] and all(d.bug for d in found)
    assert [d.evidence for d in settle([case({"a"}, {"a"}), case({"a"}, set())])] == [
        "the evidence; a known mistake fits this case but not the others", "the evidence"]


def test_a_passing_case_the_mistake_would_have_changed_refutes_it():
    (first, second) = settle([case({"a"}, {"a"}), case({"a"}, set(), failed=False)])
    assert first.bug is None and second is None


def test_two_mistakes_that_fit_alike_name_neither():
    (only,) = settle([case({"a", "b"}, {"a", "b"})])
    assert only.bug is None and "2 known mistakes fit your numbers equally well" in only.evidence


def test_the_fit_tolerance_comes_from_the_precision_and_never_from_a_user_override():
    assert diagnose.fit_tolerance().rtol == 10 * TOLERANCES[np.dtype(np.float64)].rtol
    assert diagnose.fit_tolerance(narrow=True).rtol == 10 * TOLERANCES[np.dtype(np.float32)].rtol
    with tolerances(rtol=1e-1):
        assert diagnose.fit_tolerance().rtol == 10 * TOLERANCES[np.dtype(np.float64)].rtol


def test_a_loose_user_tolerance_does_not_loosen_the_diagnosis():
    """tanh forward, sigmoid's derivative backward: not "missing σ'", however loose the pass tolerance."""
    def two_layer_grads(X, y, W1, W2):
        m, k = X.shape[0], W2.shape[1]
        A = X @ W1
        Z = np.tanh(A)
        h = Z @ W2
        S = np.exp(h - h.max(axis=1, keepdims=True))
        S /= S.sum(axis=1, keepdims=True)
        G = (S - np.eye(k)[y]) / m
        s = 1 / (1 + np.exp(-A))
        return X.T @ ((G @ W2.T) * s * (1 - s)), Z.T @ G

    import types

    module = types.SimpleNamespace(__name__="tanh_sigmoid", two_layer_grads=two_layer_grads)
    with tolerances(rtol=1e-3):
        (result,) = check_module(module, ("two_layer_grads",), activation="tanh")
    assert not result.passed and "missing_sigma_prime" not in result.diagnoses


@pytest.mark.parametrize("name, words", [
    ("nn_epoch_partial_batch_nominal_size", r"the last, partial minibatch is averaged over the nominal batch size"),
    ("nn_epoch_full_batch_step", r"the batch argument \(batch = \d+\) is ignored: the whole data is taken as one minibatch"),
    ("nn_epoch_hard_coded_batch_8", r"the batch argument \(batch = \d+\) is ignored: minibatches have a fixed size of 8"),
    ("two_layer_grads_w1_missing_mean", r"W1 is m = \d+ times too large\. Fix: divide it by m once"),
    ("two_layer_grads_divided_by_m_times_k", r"your W1, W2 are all k = \d+ times too small"),
    ("two_layer_grads_sigmoid_checked_as_relu", r"your code computes σ = sigmoid, not the σ = relu it is checked for\. "
                                                r"Fix: if the assignment asks for sigmoid, check it for sigmoid "
                                                r"\(gradcheck check --activation sigmoid"),
])
def test_the_mistakes_students_make_are_named_in_their_words(name, words):
    module = load(name)
    conventions = ("nn_epoch",) if module.CONVENTION == "nn_epoch" else (module.CONVENTION,)
    (result,) = check_module(module, conventions, activation=module.ACTIVATION)
    texts = [c.diagnosis for c in result.failures if c.diagnosis]
    assert texts and all(re.search(words, t) for t in texts), "\n".join(texts[:3])


def test_an_mlp_wrong_for_one_activation_only_points_at_that_activation():
    module = load("mlp_grads_unknown_tanh_typo_uses_relu_derivative")
    (result,) = check_module(module, ("mlp_grads",), activation=getattr(module, "DECLARED_ACTIVATIONS", None))
    texts = {c.diagnosis for c in result.failures}
    assert texts and all("only σ = tanh fails (relu, sigmoid pass): look at tanh's own code, its derivative "
                         "above all: tanh'(a) = 1 − tanh(a)²" in t.lower() for t in texts), texts
    assert all(c.problem and "tanh" in c.problem for c in result.failures)


def test_a_bias_gradient_with_a_kept_dimension_is_named_after_the_shape_line():
    (result,) = check_module(load("cs231n_layers_bias_kept_dimension"), ("layers",))
    db = [c for c in result.failures if c.tensor == "affine_backward db"]
    assert db and all("∇b has a kept dimension" in c.diagnosis and "shape mismatch" in c.note for c in db)


def test_an_activation_layer_cites_the_sigma_prime_factor_not_the_affine_equation():
    (result,) = check_module(load("cs231n_layers_sigma_prime_at_activation"), ("layers",))
    sigma = [c for c in result.failures if c.tensor.split(" ")[0] in ("sigmoid_backward", "tanh_backward")]
    assert sigma and all(c.equation.formula.startswith("dx = σ'(x) ∘ dout") for c in sigma)
