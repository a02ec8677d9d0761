"""The mutation corpus: every correct implementation passes, every buggy one fails with its diagnosis.

Each file of ``tests/corpus/`` is a student's implementation in one of the
course conventions, labelled with ``EXPECTED`` ("pass" or "fail") and the
catalog id of its bug in ``DIAGNOSIS``; ``REQUIRE_STABILITY = True`` marks a file
whose only fault is a softmax that overflows on large logits, which fails only
when stability is required (DLSys hw0 allows a direct softmax), and
``DECLARED_ACTIVATIONS`` the activations its author tells gradcheck it supports.
A failing file with ``DIAGNOSIS = None`` must fail with no diagnosis claimed, except the names
in its ``DIAGNOSES``: a file with one bug in each of two functions may have each named where it
alone shows.
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
    assert diagnoses - {None} <= set(CATALOG) and len(diagnoses - {None}) >= 20
    assert sum(m.EXPECTED == "pass" for m in modules) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_implementation_gets_its_expected_verdict_and_diagnosis(path):
    module = load(path)
    results = check_module(module, CONVENTION_OF[module.CONVENTION], activation=declared(module),
                           require_stability=getattr(module, "REQUIRE_STABILITY", False))
    report = "\n\n".join(r.render() for r in results)
    if module.EXPECTED == "pass":
        assert all(r.passed for r in results), report
    else:
        assert any(r.failures for r in results), report
        if module.DIAGNOSIS is not None:
            # Every failing comparison that has numbers to read names the file's mistake, in every case.
            readable = [c for r in results for c in r.failures if c.bug or "raised" not in (c.note or "")]
            assert readable and all(c.bug == module.DIAGNOSIS for c in readable), \
                f"diagnosed {[(c.tensor, c.problem, c.bug) for c in readable if c.bug != module.DIAGNOSIS]}\n{report}"


UNDIAGNOSED = [p for p in FILES if load(p).EXPECTED == "fail" and load(p).DIAGNOSIS is None]


@pytest.mark.parametrize("path", UNDIAGNOSED, ids=lambda p: p.stem)
def test_no_diagnosis_is_claimed_where_no_known_mistake_fits(path):
    module = load(path)
    results = check_module(module, CONVENTION_OF[module.CONVENTION], activation=declared(module))
    diagnosed = [d for r in results for d in r.diagnoses]
    allowed = set(getattr(module, "DIAGNOSES", ()))
    assert set(diagnosed) <= allowed, f"diagnosed {diagnosed}\n" + "\n\n".join(r.render() for r in results)


def declared(module) -> tuple[str, ...] | str | None:
    """What the student tells gradcheck their code supports: ``DECLARED_ACTIVATIONS``, else its one ``ACTIVATION``."""
    return getattr(module, "DECLARED_ACTIVATIONS", None) or module.ACTIVATION


UNSTABLE = [p for p in FILES if getattr(load(p), "REQUIRE_STABILITY", False)]


@pytest.mark.parametrize("path", UNSTABLE, ids=lambda p: p.stem)
def test_a_softmax_that_overflows_only_warns_unless_stability_is_required(path):
    module = load(path)
    results = check_module(module, CONVENTION_OF[module.CONVENTION], activation=declared(module))
    assert all(r.passed for r in results), "\n\n".join(r.render() for r in results)
    warned = [w for r in results for w in r.warnings]
    assert warned and {w.bug for w in warned} == {"softmax_overflow"}
    assert all("WARNING numerical stability" in r.render() for r in results if r.warnings)
