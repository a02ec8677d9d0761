"""The ``gradcheck`` command: the table, its exit codes and its help."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from gradcheck import cli, problems, witnesses
from gradcheck.cli import ExitCode, main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradcheck", *args], capture_output=True, text=True, timeout=600)


def test_with_no_arguments_it_verifies_the_whole_default_grid_and_exits_0():
    out = run()
    assert out.returncode == ExitCode.OK, out.stdout + out.stderr
    rows = [line for line in out.stdout.splitlines() if re.match(r"\d+(-\d+)+ ", line)]
    assert len(rows) == 4 + 3 * 7 * 4  # depth 1: linear only; depths 2–4: every activation; ±bias; mean/sum
    assert all(line.split()[-2] == "agree" for line in rows)
    summary = re.search(r"88 of 88 architectures agree three ways \(max relative disagreement: (.*)\)", out.stdout)
    assert summary, out.stdout
    errors = [float(e) for e in re.findall(r" (\d\.\de[-+]\d+)", summary.group(1))]
    assert len(errors) == 3 and max(errors) <= 1e-8


def test_the_table_header_names_the_three_pairs_of_witnesses():
    out = run("--depth", "2", "--activation", "tanh", "--bias", "no", "--reduction", "sum")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0] == "gradcheck: three witnesses on the reference MLP, float64, m=8, seed 0"
    assert lines[1].split() == [
        "architecture", "reduction", "params", "closed~JAX", "closed~FD", "(complex)", "JAX~FD", "(complex)",
        "kinks", "excluded", "verdict", "ms",
    ]
    assert re.match(r"5-7-3 tanh\s+sum\s+56\s+\S+\s+\S+\s+\S+\s+0\s+agree\s+\d+$", lines[3])


def test_ordinary_central_differences_agree_on_relu_networks_too():
    out = run("--widths", "4,9,3", "--activation", "relu", "--fd", "central", "--batch", "50", "--seed", "3")
    assert out.returncode == 0, out.stdout
    assert "closed~FD (central)" in out.stdout
    assert "4 of 4 architectures agree" in out.stdout


def test_a_disagreement_exits_1_and_prints_the_failing_comparison(monkeypatch, capsys):
    real = witnesses.closed_form

    def forgot_sigma_prime(problem):
        grads = real(problem)
        grads["W1"] = problem.X.T @ grads["G2"]  # Eq. 11 without ∘ σ'(XW₁)
        return grads

    monkeypatch.setattr(witnesses, "closed_form", forgot_sigma_prime)
    code = main(["--depth", "2", "--activation", "sigmoid", "--bias", "no", "--reduction", "mean"])
    out = capsys.readouterr().out
    assert code == ExitCode.DISAGREE
    assert "DISAGREE" in out and "0 of 1 architectures agree" in out
    assert "FAIL W1 (5, 7) float64: closed form vs JAX disagree on" in out
    assert "Eq. 11: ∇W₁ = Xᵀ ((S − I_y) W₂ᵀ ∘ σ'(XW₁))" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--activation", "swish"], "unknown activation 'swish'. Known activations: identity, relu"),
        (["--depth", "9"], "--depth goes up to 4 on the default widths; give --widths"),
        (["--widths", "5"], "widths need at least an input and an output size"),
        (["--widths", "5,x,3"], "comma-separated positive integers"),
        (["--batch", "0"], "expected a number ≥ 1"),
        (["--fd", "forward"], "invalid choice: 'forward'"),
    ],
)
def test_usage_errors_exit_2_with_a_message(args, message):
    out = run(*args)
    assert out.returncode == ExitCode.USAGE
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_help_documents_every_option_and_examples():
    out = run("--help")
    assert out.returncode == 0
    for option in ("--depth", "--widths", "--activation", "--bias", "--reduction", "--fd", "--batch", "--seed", "--verbose"):
        assert option in out.stdout
    assert "examples:" in out.stdout and "exit status: 0 all witnesses agree, 1 some pair disagrees, 2 usage error, 3 none disagrees" in out.stdout
    assert out.stdout == cli.build_parser().format_help()


@pytest.mark.skipif(shutil.which("gradcheck") is None, reason="console script not installed on PATH")
def test_the_console_script_is_the_same_command():
    out = subprocess.run(["gradcheck", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("usage: gradcheck")


CORPUS = __import__("pathlib").Path(__file__).parent / "corpus"


def test_check_exits_0_when_every_convention_in_the_file_passes():
    out = run("check", str(CORPUS / "nn_epoch_correct.py"))
    assert out.returncode == ExitCode.OK, out.stdout + out.stderr
    assert out.stdout.splitlines()[0] == \
        "nn_epoch_correct.py:nn_epoch: PASS, all 22 comparisons agree (SGD epoch, lr=0.1, batch=16, seed 0)"
    assert out.stdout.rstrip().endswith("2 checks: 2 passed, 0 failed (seed 0)")


def test_check_exits_1_and_prints_the_equation_entries_and_diagnosis_of_a_wrong_gradient():
    out = run("check", f"{CORPUS / 'two_layer_grads_missing_sigma_prime.py'}:two_layer_grads", "--activation", "sigmoid")
    assert out.returncode == ExitCode.DISAGREE
    text = out.stdout
    n, d, _ = problems.shapes(0, depth=2)["non-square"].widths
    assert f"FAIL W1 ({n}, {d}) float64: yours vs JAX disagree on {n * d} of {n * d} checked entries" in text
    assert "Eq. 11: ∇W₁ = Xᵀ ((S − I_y) W₂ᵀ ∘ σ'(XW₁))" in text
    assert "worst entries:" in text and "probable cause: σ' is missing" in text


def test_check_detects_layers_and_modules_from_the_names_defined():
    for name, first in (("cs231n_layers_correct", "CS231n layers"), ("modules_correct", "module objects")):
        out = run("check", str(CORPUS / f"{name}.py"))
        assert out.returncode == ExitCode.OK, out.stdout
        assert first in out.stdout.splitlines()[0]


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f(:\n", "syntax error"),
        ("raise RuntimeError('boom')\n", "importing"),
        # hw1's apps/simple_ml.py run from the wrong folder: the line that imports, and where to run from
        ("import numpy as np\nimport python.needle as ndl\n", "No module named 'python' at hw.py:2 in <module>: "
         "import python.needle as ndl: the file imports a module that is not installed or not on the Python path"),
        ("x = 1\n", "defines none of the functions gradcheck knows how to check"),
    ],
)
def test_check_exits_2_when_the_code_cannot_be_loaded_or_recognised(tmp_path, source, message):
    path = tmp_path / "hw.py"
    path.write_text(source)
    out = run("check", str(path))
    assert out.returncode == ExitCode.USAGE
    assert message in out.stderr and "Traceback" not in out.stderr


def test_check_names_the_functions_a_file_defines_when_the_one_asked_for_is_missing(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text("def my_grads(X, y, W1, W2):\n    return W1, W2\n")
    out = run("check", f"{path}:grads")
    assert out.returncode == ExitCode.USAGE
    assert "defines no function 'grads'; it defines: my_grads" in out.stderr
    out = run("check", f"{path}:my_grads")
    assert out.returncode == ExitCode.USAGE and "--convention" in out.stderr
    out = run("check", f"{path}:my_grads", "--convention", "two_layer_grads")
    assert out.returncode == ExitCode.DISAGREE and out.stdout.startswith("hw.py:my_grads: FAIL")


def test_check_help_lists_every_convention():
    from gradcheck.checks.conventions import NAMES

    out = run("check", "--help")
    assert out.returncode == 0
    for name in NAMES:
        assert f"\n  {name} " in out.stdout
    assert "exit status: 0 every check passes, 1 something is wrong (a gradient, a forward, or a change your code\n" \
           "makes to the arrays it is given), 2 usage or import error, 3 nothing is wrong" in out.stdout


def test_check_shares_the_plugins_settings_and_writes_the_same_json_report(tmp_path):
    import json

    import jsonschema

    path = tmp_path / "checks.json"
    out = run("check", str(CORPUS / "softmax_regression_epoch_correct.py"), "--trials", "3", "--witness",
              "closed-form", "--report", str(path))
    assert out.returncode == ExitCode.OK, out.stderr
    document = json.loads(path.read_text())
    schema = json.loads((CORPUS.parents[1] / "docs" / "report.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert [c["seed"] for c in document["checks"]] == [0, 1, 2]
    assert document["settings"]["witness"] == "closed-form"
    assert all(c["comparisons"][0]["witnesses"][1] == "closed form" for c in document["checks"])


def test_check_rejects_a_bad_setting_naming_the_option():
    out = run("check", str(CORPUS / "nn_epoch_correct.py"), "--trials", "0")
    assert out.returncode == ExitCode.USAGE
    assert "argument --trials: bad value '0' for trials: expected an integer ≥ 1." in out.stderr


def test_check_exits_3_when_nothing_failed_but_something_could_not_be_judged():
    from gradcheck.checks.result import CheckResult
    from gradcheck.compare import compare

    judged = compare(np.ones(4), np.ones(4), tensor="dx")
    unjudged = compare(np.ones(4), np.ones(4), tensor="dx", checkable=np.zeros(4, bool))
    wrong = compare(2 * np.ones(4), np.ones(4), tensor="dx")
    results = lambda *records: [CheckResult("relu_backward", "layers", (r,), 0) for r in records]
    assert cli.exit_code(results(judged)) is ExitCode.OK
    assert cli.exit_code(results(judged, unjudged)) is ExitCode.INCONCLUSIVE == 3
    assert cli.exit_code(results(unjudged, wrong)) is ExitCode.DISAGREE
    assert cli.exit_code([]) is ExitCode.INCONCLUSIVE
    assert cli.tally(results(judged, unjudged), 7) == "2 checks: 1 passed, 0 failed, 1 inconclusive (relu_backward) (seed 7)"


def test_check_warns_about_a_direct_softmax_and_fails_it_only_with_require_stability():
    target = str(CORPUS / "nn_epoch_correct_direct_softmax.py")
    relaxed = run("check", target)
    assert relaxed.returncode == 0, relaxed.stdout
    assert "WARNING numerical stability: W1 (" in relaxed.stdout and "entries are NaN or infinite" in relaxed.stdout
    strict = run("check", target, "--require-stability")
    assert strict.returncode == 1 and "probable cause: softmax is not computed stably" in strict.stdout
