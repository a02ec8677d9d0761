"""The mutation corpus: every correct implementation passes, every buggy one fails with its diagnosis.

Each file of ``tests/corpus/`` is a student's implementation in one of the
course conventions, labelled with ``EXPECTED`` ("pass" or "fail") and the
catalog id of its bug in ``DIAGNOSIS``; ``REQUIRE_STABILITY = True`` marks a file
whose only fault is a softmax that overflows on large logits, which fails only
when stability is required (DLSys hw0 allows a direct softmax).
"""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from gradcheck.checks.conventions import check_module
from gradcheck.diagnose import CATALOG

CORPUS = pathlib.Path(__file__).parent / "corpus"
FILES = sorted(p for p in CORPUS.glob("*.py") if not p.name.startswith("_"))
CONVENTION_OF = {
    "two_layer_grads": ("two_layer_grads",), "mlp_grads": ("mlp_grads",),
    "nn_epoch": ("nn_epoch", "softmax_loss"), "softmax_regression_epoch": ("softmax_regression_epoch",),
    "cs231n_layers": ("layers",), "modules": ("modules",),
}


def load(path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(f"corpus_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_corpus_covers_every_convention_and_many_bugs():
    modules = [load(p) for p in FILES]
    assert {m.CONVENTION for m in modules} == set(CONVENTION_OF)
    diagnoses = {m.DIAGNOSIS for m in modules if m.EXPECTED == "fail"}
    assert diagnoses <= set(CATALOG) and len(diagnoses) >= 20
    assert sum(m.EXPECTED == "pass" for m in modules) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_implementation_gets_its_expected_verdict_and_diagnosis(path):
    module = load(path)
    results = check_module(module, CONVENTION_OF[module.CONVENTION], activation=module.ACTIVATION or "relu",
                           require_stability=getattr(module, "REQUIRE_STABILITY", False))
    report = "\n\n".join(r.render() for r in results)
    if module.EXPECTED == "pass":
        assert all(r.passed for r in results), report
    else:
        assert not all(r.passed for r in results), report
        diagnosed = [d for r in results for d in r.diagnoses]
        assert diagnosed and diagnosed[0] == module.DIAGNOSIS, f"diagnosed {diagnosed}\n{report}"


UNSTABLE = [p for p in FILES if getattr(load(p), "REQUIRE_STABILITY", False)]


@pytest.mark.parametrize("path", UNSTABLE, ids=lambda p: p.stem)
def test_a_softmax_that_overflows_only_warns_unless_stability_is_required(path):
    module = load(path)
    results = check_module(module, CONVENTION_OF[module.CONVENTION], activation=module.ACTIVATION or "relu")
    assert all(r.passed for r in results), "\n\n".join(r.render() for r in results)
    warned = [w for r in results for w in r.warnings]
    assert warned and {w.bug for w in warned} == {"softmax_overflow"}
    assert all("WARNING numerical stability" in r.render() for r in results if r.warnings)
