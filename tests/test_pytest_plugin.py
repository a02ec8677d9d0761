"""The pytest plugin: fixture, marker, options, ini keys, reports, and what loading it costs."""

from __future__ import annotations

import json
import pathlib
import shutil

import jsonschema
import numpy  # noqa: F401  (imported before pytester snapshots sys.modules: numpy cannot load twice)
import pytest

import gradcheck.testing  # noqa: F401  (the same for everything a check imports)
from gradcheck import oracle, problems
from gradcheck.settings import MARKER_KEYS

oracle._jax()  # and for JAX

REPO = pathlib.Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "corpus"
EXAMPLES = REPO / "examples"


def student_repo(pytester: pytest.Pytester, implementation: str, test: str) -> None:
    """A homework folder: the student's module and a test file using the plugin."""
    pytester.makepyfile(hw=(CORPUS / implementation).read_text())
    pytester.makepyfile(test_hw=test)
    pytester.syspathinsert()


TWO_LAYER_TEST = """
import hw

def test_two_layer_grads(gradcheck):
    gradcheck.two_layer_grads(hw.two_layer_grads, activation=hw.ACTIVATION)
"""


def test_a_correct_implementation_passes_and_the_summary_counts_it(pytester):
    student_repo(pytester, "two_layer_grads_correct_sigmoid.py", TWO_LAYER_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "gradcheck: seed 0, trials 1, rtol by dtype, witness auto (replay with --gradcheck-seed=0)",
        "*= gradcheck =*",
        "1 checks run (24 comparisons): 1 passed, 0 failed, 0 inconclusive; seed 0",
    ])


def test_a_buggy_implementation_fails_with_equation_tensor_and_diagnosis(pytester):
    student_repo(pytester, "two_layer_grads_missing_sigma_prime.py", TWO_LAYER_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    drawn = problems.shapes(0, depth=2)["non-square"]  # the seed draws the first case's shapes
    (n, d, k), m = drawn.widths, drawn.m
    result.stdout.fnmatch_lines([
        ">       gradcheck.two_layer_grads(hw.two_layer_grads, activation=hw.ACTIVATION)",
        "E       gradcheck.GradientMismatch: two_layer_grads: FAIL, 16 of 28 comparisons failed "
        "(gradient function, σ = sigmoid, seed 0)",
        f"E         FAIL W1 ({n}, {d}) float64: yours vs closed form disagree on {n * d} of {n * d} checked entries *",
        f"E         FAIL W1 ({n}, {d}) float64: yours vs JAX disagree on {n * d} of {n * d} checked entries *",
        f"E       FAIL W1 ({n}, {d}) float64: yours vs closed form disagree on {n * d} of {n * d} checked entries",
        "E         Eq. 11: ∇W₁ = Xᵀ ((S − I_y) W₂ᵀ ∘ σ'(XW₁))",
        f"E         problem: non-square ({n}-{d}-{k} sigmoid, m={m}, mean), seed 0",
        f"E         Mismatched elements: {n * d} / {n * d} (100%)",
        "E         worst entries:",
        "E         probable cause: σ' is missing*",
        "*- gradcheck -*",
        "two_layer_grads: FAIL, 16 of 28 comparisons failed (gradient function, σ = sigmoid, seed 0)",
        "1 checks run (28 comparisons): 0 passed, 1 failed, 0 inconclusive; seed 0",
    ])
    assert "gradcheck/testing.py" not in result.stdout.str()  # helper frames are hidden


def test_plain_assertion_helpers_work_without_the_fixture_and_are_counted(pytester):
    student_repo(pytester, "nn_epoch_correct.py", """
import hw
from gradcheck.testing import assert_softmax_loss, assert_nn_epoch

def test_loss():
    assert_softmax_loss(hw.softmax_loss)

def test_epoch():
    assert_nn_epoch(hw.nn_epoch, seed=4, trials=2)
""")
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["3 checks run (*): 3 passed, 0 failed, *"])


def test_settings_resolve_marker_then_command_line_then_ini_then_default(pytester):
    pytester.makeini("[pytest]\ngradcheck_seed = 5\ngradcheck_trials = 2\ngradcheck_witness = closed-form\n"
                     "gradcheck_require_stability = true\n")
    pytester.makepyfile(test_settings="""
import pytest

@pytest.mark.gradcheck(trials=4, require_stability=False)
def test_marker_wins(gradcheck):
    assert gradcheck.settings == {"seed": 9, "trials": 4, "rtol": None, "witness": "closed-form",
                                  "require_stability": False}

def test_command_line_beats_ini(gradcheck):
    assert gradcheck.settings == {"seed": 9, "trials": 2, "rtol": None, "witness": "closed-form",
                                  "require_stability": True}
""")
    result = pytester.runpytest("--gradcheck-seed=9")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["gradcheck: seed 9, trials 2, rtol by dtype, witness closed-form *"])


def test_the_closed_form_witness_checks_without_importing_jax(pytester):
    student_repo(pytester, "two_layer_grads_correct_tanh.py", TWO_LAYER_TEST + """
def test_no_jax():
    import sys
    assert "jax" not in sys.modules
""")
    result = pytester.runpytest_subprocess("--gradcheck-witness=closed-form", "-p", "no:randomly")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    "args, ini, message",
    [
        (["--gradcheck-seed=x"], "", "gradcheck: command line: bad value 'x' for seed: expected an integer ≥ 0."),
        (["--gradcheck-rtol=2"], "", "gradcheck: command line: bad value '2' for rtol: expected a number between 0 and 1*"),
        ([], "gradcheck_trials = 0", "gradcheck: ini file: bad value '0' for trials: expected an integer ≥ 1."),
        ([], "gradcheck_witness = torch", "gradcheck: ini file: bad value 'torch' for witness: expected one of auto, jax, closed-form."),
        ([], "gradcheck_require_stability = maybe",
         "gradcheck: ini file: bad value 'maybe' for require_stability: expected true or false."),
    ],
)
def test_bad_option_and_ini_values_stop_the_session_naming_their_source(pytester, args, ini, message):
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


@pytest.mark.parametrize(
    "marker, message",
    [
        ("sed=3", "gradcheck: test_marked.py::test_it: unknown keyword 'sed' in @pytest.mark.gradcheck; "
                  f"it accepts {', '.join(MARKER_KEYS)}."),
        ("trials='many'", "gradcheck: test_marked.py::test_it: @pytest.mark.gradcheck: bad value 'many' for trials: "
                          "expected an integer ≥ 1."),
        ("report='x.json'", "gradcheck: test_marked.py::test_it: unknown keyword 'report'*"),
        ("3", "gradcheck: test_marked.py::test_it: @pytest.mark.gradcheck takes keywords only*"),
    ],
)
def test_a_bad_marker_is_a_usage_error_naming_the_test(pytester, marker, message):
    pytester.makepyfile(test_marked=f"""
import pytest

@pytest.mark.gradcheck({marker})
def test_it():
    pass
""")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_the_plugin_can_be_disabled(pytester):
    pytester.makepyfile("def test_uses_fixture(gradcheck):\n    pass\n")
    result = pytester.runpytest("-p", "no:gradcheck")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'gradcheck' not found*"])
    assert "gradcheck: seed" not in result.stdout.str()


def test_loading_the_plugin_imports_neither_jax_nor_numpy(pytester):
    pytester.makepyfile(test_light="""
import sys

def test_light(request):
    assert request.config.pluginmanager.has_plugin("gradcheck")
    heavy = sorted(m for m in ("jax", "numpy", "gradcheck.checks", "reference_mlp") if m in sys.modules)
    assert heavy == []
""")
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=1)


def test_the_json_report_lists_every_check_and_matches_its_schema(pytester, tmp_path):
    student_repo(pytester, "two_layer_grads_sign_flip.py", TWO_LAYER_TEST + """
def test_loss(gradcheck):
    import numpy as np
    gradcheck.softmax_loss(lambda Z, y: np.mean(np.log(np.exp(Z).sum(1)) - Z[np.arange(len(y)), y]))
""")
    path = tmp_path / "report.json"
    result = pytester.runpytest(f"--gradcheck-report={path}")
    result.assert_outcomes(failed=1, passed=1)  # the direct log-sum-exp only warns: hw0 allows it
    result.stdout.fnmatch_lines([f"report written to {path}"])
    document = json.loads(path.read_text())
    schema = json.loads((REPO / "docs" / "report.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["summary"] == {"checks": 2, "passed": 1, "failed": 1, "inconclusive": 0}
    first, second = document["checks"]
    assert first["test"] == "test_hw.py::test_two_layer_grads" and first["target"] == "two_layer_grads"
    failing = [c for c in first["comparisons"] if c["verdict"] == "fail"]
    assert {c["bug"] for c in failing} == {"sign_flip"}
    assert failing[0]["equation"]["number"] in ("10", "11") and failing[0]["worst"]
    assert second["verdict"] == "pass" and {w["bug"] for w in second["warnings"]} == {"softmax_overflow"}
    assert {w["finding"] for w in second["warnings"]} == {"numerical stability"}
    strict = pytester.runpytest(f"--gradcheck-report={path}", "--gradcheck-require-stability")
    strict.assert_outcomes(failed=2)
    document = json.loads(path.read_text())
    jsonschema.validate(document, schema)
    second = document["checks"][1]
    assert {c["bug"] for c in second["comparisons"] if c["verdict"] == "fail"} == {"softmax_overflow"}


def test_the_html_report_draws_every_check_of_the_session_with_the_command_that_replays_it(pytester, tmp_path):
    student_repo(pytester, "two_layer_grads_sign_flip.py", TWO_LAYER_TEST)
    path = tmp_path / "report.html"
    result = pytester.runpytest(f"--gradcheck-html={path}", "--gradcheck-seed=4")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"html written to {path}"])
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'class="badge fail">FAIL' in page
    assert '<img class="heatmap" src="data:image/png;base64,' in page
    assert "pytest &#39;test_hw.py::test_two_layer_grads&#39; --gradcheck-seed=4" in page


@pytest.mark.parametrize("option", ["--gradcheck-html", "--gradcheck-report"])
def test_a_report_in_a_folder_that_does_not_exist_is_a_usage_error_before_any_test_runs(pytester, tmp_path, option):
    student_repo(pytester, "two_layer_grads_sign_flip.py", TWO_LAYER_TEST)
    result = pytester.runpytest(f"{option}={tmp_path / 'missing' / 'report.x'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*the folder {tmp_path / 'missing'} does not exist (create it first*"])
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("example", ["dlsys_hw0", "cs231n_layers"])
@pytest.mark.parametrize("variant, outcome", [("correct", "passed"), ("buggy", "failed")])
def test_each_example_repo_passes_when_correct_and_fails_with_a_diagnosis_when_buggy(pytester, example, variant, outcome):
    shutil.copytree(EXAMPLES / example / variant, pytester.path, dirs_exist_ok=True)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    if outcome == "passed":
        assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    else:
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines(["E         probable cause: *"])


def test_a_check_that_could_not_judge_fails_the_test_saying_how_to_settle_it(pytester):
    pytester.makepyfile(test_kink="""
import numpy as np

def test_relu_backward(gradcheck):
    x = np.zeros((3, 4))  # every input on the kink: nothing can be judged
    gradcheck.function(lambda x: np.maximum(x, 0), lambda dout, x: dout * (x > 0), [x])
""")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E       gradcheck.Inconclusive: gradcheck could not judge <lambda> with seed 0; "
        "give inputs away from the kinks of your forward*",
        "1 checks run (1 comparisons): 0 passed, 0 failed, 1 inconclusive; seed 0",
    ])


def test_the_fixture_checks_cs231n_files_and_a_wrong_layer_fails_in_its_own_function(pytester):
    a2 = REPO / "tests" / "cs231n_a2"
    pytester.makepyfile(layers=(a2 / "layers.py").read_text(),
                        classifiers=(REPO / "tests" / "classifiers" / "correct.py").read_text())
    pytester.makepyfile(test_cs231n="""
import layers, classifiers

def test_layers(gradcheck):
    gradcheck.layers(layers)

def test_classifiers(gradcheck):
    gradcheck.linear_classifiers(classifiers)

def test_a_broken_pool(gradcheck):
    layers.max_pool_backward_naive = lambda dout, cache: 0 * cache[0]
    gradcheck.layers(layers)
""")
    pytester.syspathinsert()
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["E * PASS * max_pool_forward_naive", "E * FAIL * max_pool_backward_naive*"])


def test_the_fixture_checks_cs231n_models(pytester):
    a2 = REPO / "tests" / "cs231n_a2"
    pytester.makepyfile(**{name: (a2 / f"{name}.py").read_text() for name in ("layers", "layer_utils", "cnn")})
    pytester.makepyfile(test_models="""
import cnn

def test_convnet(gradcheck):
    gradcheck.cnn(cnn)

def test_a_convnet_without_its_filters_regularisation(gradcheck):
    loss = cnn.ThreeLayerConvNet.loss

    def unregularised(self, X, y=None):
        out = loss(self, X, y)
        if y is not None:
            out[1]["W1"] -= self.reg * self.params["W1"]
        return out

    cnn.ThreeLayerConvNet.loss = unregularised
    gradcheck.cnn(cnn)
""")
    pytester.syspathinsert()
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*FAIL ThreeLayerConvNet W1 (3, 3, 3, 3)*", "*regularisation*"])


def test_the_fixture_checks_a_needle_checkout_by_its_path(pytester):
    hw1 = REPO / "tests" / "dlsys_hw1"
    pytester.makepyfile(test_hw1=f"""
def test_needle(gradcheck):
    gradcheck.needle({str(hw1)!r})

def test_not_a_checkout(gradcheck):
    gradcheck.needle({str(hw1 / "needle_mistakes.py")!r})
""")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*is not a needle package*"])
