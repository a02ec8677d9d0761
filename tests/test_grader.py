"""The autograder: hostile submissions never beat it, honest ones get the grade they earned."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from gradcheck.grader import spec as spec_module
from gradcheck.grader.sandbox import best_layer
from reference_mlp import InvalidArgument

HERE = pathlib.Path(__file__).parent
HOSTILE = sorted(p for p in (HERE / "hostile").glob("*.py") if not p.name.startswith("_"))
SECRET_SEED = 424242
SPEC = """
[assignment]
name = "hw"
seed = {seed}
time_limit = 10
memory_limit = 1024

[[check]]
name = "two-layer gradients"
file = "hw.py"
convention = "two_layer_grads"
weight = 4
{extra}
"""


def setup(tmp_path, source: str, extra: str = "") -> tuple[pathlib.Path, pathlib.Path, pathlib.Path]:
    submission, private, results = tmp_path / "submission", tmp_path / "source", tmp_path / "results"
    for folder in (submission, private, results):
        folder.mkdir()
    spec = private / "spec.toml"
    spec.write_text(SPEC.format(seed=SECRET_SEED, extra=extra))
    (private / "reference_solution.py").write_text(f"# the answer key, seed {SECRET_SEED}\n")
    (submission / "hw.py").write_text(source.replace("SPEC_PATH_PLACEHOLDER", str(spec)))
    return submission, spec, results


def grade(submission, spec, results, *extra, env=None) -> tuple[subprocess.CompletedProcess, dict, float]:
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "gradcheck", "grade", str(submission), "--spec", str(spec),
                          "--gradescope", str(results / "results.json"), *extra],
                         capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})
    elapsed = time.monotonic() - start
    document = json.loads((results / "results.json").read_text())
    return out, document, elapsed


def expected_reason(path: pathlib.Path) -> str:
    spec = importlib.util.spec_from_file_location(f"hostile_{path.stem}", path)
    text = path.read_text()
    return re.search(r'^EXPECT = "(.*)"$', text, re.M).group(1) if spec else ""


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_a_hostile_submission_scores_zero_with_a_reason_and_cannot_touch_the_results(tmp_path, path):
    source = path.read_text()
    listener = None
    if ("PORT = 0" in source or "SPEC_PATH" in source) and not best_layer().startswith("bubblewrap"):
        pytest.skip("cutting the network and hiding the grader's files need bubblewrap; this machine has none")
    if "PORT = 0" in source:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        source = source.replace("PORT = 0", f"PORT = {listener.getsockname()[1]}")
    submission, spec, results = setup(tmp_path, source)
    out, document, elapsed = grade(submission, spec, results,
                                   env={"RESULTS": str(results / "results.json"), "GRADCHECK_SECRET": str(SECRET_SEED)})
    assert out.returncode == 0, out.stderr
    assert elapsed < 120
    (test,) = document["tests"]
    assert test["score"] == 0 and test["status"] == "failed" and document["score"] == 0
    assert re.search(expected_reason(path), test["output"]), test["output"]
    assert str(SECRET_SEED) not in json.dumps(document)
    if shutil.which("bwrap"):
        assert "Sandbox: bubblewrap" in document["output"]
    if listener is not None:
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody called
        listener.close()
    if "sleep" in source:
        time.sleep(0.5)
        survivors = subprocess.run(["pgrep", "-f", "sleep 424[23]"], capture_output=True, text=True).stdout
        assert survivors == "", f"processes outlived the grading: {survivors}"


def test_a_correct_submission_gets_full_marks(tmp_path):
    source = (HERE / "corpus" / "two_layer_grads_correct_relu.py").read_text()
    submission, spec, results = setup(tmp_path, source)
    out, document, _ = grade(submission, spec, results)
    assert out.returncode == 0
    assert document["score"] == 4 and document["tests"][0]["status"] == "passed"
    assert isinstance(document["execution_time"], float)
    assert f"hw: 4 / 4 points ({best_layer()})" in out.stdout


def test_a_buggy_submission_gets_partial_credit_and_the_diagnosis(tmp_path):
    source = (HERE / "corpus" / "two_layer_grads_sum_instead_of_mean.py").read_text()
    submission, spec, results = setup(tmp_path, source, "partial_credit = true\nvisibility = \"after_due_date\"\nactivation = \"tanh\"")
    extra = ["--junit", str(results / "junit.xml"), "--prairielearn", str(results / "pl.json"),
             "--json", str(results / "all.json")]
    out, document, _ = grade(submission, spec, results, *extra)
    (test,) = document["tests"]
    assert test["status"] == "failed" and 0 <= test["score"] < 4 and test["visibility"] == "after_due_date"
    assert "probable cause: the gradient is m times too large" in test["output"]
    suite = ET.fromstring((results / "junit.xml").read_text())
    assert suite.get("failures") == "1" and suite.find("testcase/failure") is not None
    pl = json.loads((results / "pl.json").read_text())
    assert pl["gradable"] is True and pl["score"] == document["score"] / 4
    everything = json.loads((results / "all.json").read_text())
    assert everything["checks"][0]["result"]["comparisons"][0]["bug"] == "sum_instead_of_mean"


def test_missing_files_and_functions_are_zeros_that_say_what_is_there(tmp_path):
    submission, spec, results = setup(tmp_path, "def other(X):\n    return X\n")
    _, document, _ = grade(submission, spec, results)
    assert "hw.py defines no function two_layer_grads (it defines: other)." in document["tests"][0]["output"]
    (submission / "hw.py").unlink()
    (submission / "homework.py").write_text("")
    _, document, _ = grade(submission, spec, results)
    assert "hw.py was not found in the submission (it contains: homework.py)." in document["tests"][0]["output"]


CHECK = "[[check]]\nfile = 'a.py'\nconvention = 'nn_epoch'\n"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[assignment]\nname = 'x'\n" + CHECK, "needs exactly one of seed = N, seed_env"),
        ("[assignment]\nseed = 1\nseed_env = 'S'\n" + CHECK, "got seed, seed_env"),
        ("[assignment]\nseed = 1\n[[check]]\nfile = 'a.py'\nconvention = 'nn'\n", "check 1: convention must be one of"),
        ("[assignment]\nseed = 1\n" + CHECK + "visibility = 'secret'\n",
         "visibility must be one of visible, hidden, after_due_date, after_published"),
        ("[assignment]\nseed = 1\n" + CHECK + "weigth = 3\n", "unknown key 'weigth' (did you mean weight?)"),
        ("[assignment]\nseed = 1\ntime_limt = 5\n" + CHECK, "unknown key 'time_limt' (did you mean time_limit?)"),
        ("[assignment]\nseed = 1\n", "no [[check]] tables"),
        ("[assignment]\nseed = 1\ntime_limit = -3\n" + CHECK, "time_limit must be a finite number > 0 and ≤ 3600 seconds"),
        ("[assignment]\nseed = 1\ntime_limit = inf\n" + CHECK, "time_limit must be a finite number > 0 and ≤ 3600 seconds; got inf"),
        ("[assignment]\nseed = 1\nhide = [3]\n" + CHECK, "hide must list absolute paths other than / as strings"),
        ("[assignment]\nseed = 1\nhide = ['/']\n" + CHECK, "hide must list absolute paths other than /"),
        ("[assignment]\nseed = 1\n" + CHECK + "lr = -1\n", "lr must be a finite number > 0 and ≤ 10"),
        ("[assignment]\nseed = 1\n" + CHECK + "lr = nan\n", "check 1: lr must be a finite number > 0 and ≤ 10; got nan"),
        ("[assignment]\nseed = 1\n" + CHECK + "weight = nan\n", "check 1: weight must be a finite number > 0"),
        ("[assignment]\nseed = 1\n" + CHECK + "weight = inf\n", "check 1: weight must be a finite number > 0"),
        ("[assignment]\nseed = 1\n" + CHECK + "batch = 100000000\n", "check 1: batch must be a finite number ≥ 1 and ≤ 4096"),
        ("[assignment]\nseed = 1\n" + CHECK + "time_limit = 0\n", "check 1: time_limit must be a finite number > 0"),
        ("[assignment]\nseed = 1\nmemory_limit = 100000000\n" + CHECK, "memory_limit must be a finite number ≥ 128 and ≤ 65536 MiB"),
        ("[assignment]\nseed = 1\n" + CHECK + "dtype = 'int8'\n", "dtype must be \"float64\" or \"float32\""),
        ("[assignment]\nseed = 1\n" + CHECK + "activation = 'swish'\n", "check 1: activation:"),
        ("[assignment]\nseed = 1\n[[check]]\nfile = '../a.py'\nconvention = 'nn_epoch'\n", "relative to the submission"),
        ("[assignment]\nseed = 1\n" + CHECK + CHECK, "two checks share the name 'nn_epoch'"),
        ("[assignment]\nseed_file = 'missing'\n" + CHECK, "seed_file missing: cannot read"),
        ("[assignment\n", "not valid TOML"),
    ],
)
def test_a_bad_spec_is_refused_with_the_file_check_and_key(tmp_path, text, message):
    path = tmp_path / "spec.toml"
    path.write_text(text)
    with pytest.raises(InvalidArgument) as info:
        spec_module.load(path)
    assert message in str(info.value) and str(path) in str(info.value)
    out = subprocess.run([sys.executable, "-m", "gradcheck", "grade", str(tmp_path), "--spec", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and message in out.stderr


def test_layer_functions_and_layer_objects_are_graded_through_the_sandbox_too(tmp_path):
    for convention, correct, buggy, bug in (("layers", "cs231n_layers_correct", "cs231n_layers_bias_wrong_axis", "bias_wrong_axis"),
                                            ("modules", "modules_correct", "modules_accumulates_gradient", "accumulates_gradient")):
        for name, expected in ((correct, 4), (buggy, 0)):
            folder = tmp_path / convention / name
            folder.mkdir(parents=True)
            submission, spec, results = setup(folder, (HERE / "corpus" / f"{name}.py").read_text())
            spec.write_text(spec.read_text().replace('convention = "two_layer_grads"', f'convention = "{convention}"'))
            _, document, _ = grade(submission, spec, results, "--json", str(results / "all.json"))
            assert document["score"] == expected, document["tests"][0]["output"][:2000]
            if expected == 0:
                bugs = {c["bug"] for c in json.loads((results / "all.json").read_text())["checks"][0]["result"]["comparisons"]}
                assert bug in bugs


def test_a_batch_grades_every_folder_in_parallel_and_resumes_where_it_stopped(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "graded"
    for name, source in (("alice", "two_layer_grads_correct_relu.py"), ("bob", "two_layer_grads_sign_flip.py"),
                         ("carol", "two_layer_grads_correct_relu.py")):
        (submissions / name).mkdir(parents=True)
        (submissions / name / "hw.py").write_text((HERE / "corpus" / source).read_text())
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format(seed=SECRET_SEED, extra=""))
    command = [sys.executable, "-m", "gradcheck", "grade", str(submissions), "--spec", str(spec), "--batch", str(out)]
    first = subprocess.run(command + ["--jobs", "2"], capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    summary = (out / "summary.csv").read_text()
    assert summary.splitlines() == ["submission,score,two-layer gradients,needs review,grading failed",
                                    "alice,4,4,,", "bob,0,0,,", "carol,4,4,,"]
    (out / "bob" / "results.json").unlink()  # as if the batch had been killed before bob
    second = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert "2 of 3 already graded; grading the other 1" in second.stderr
    assert "[3/3] bob: 0 / 4" in second.stderr
    assert (out / "summary.csv").read_text() == summary


def test_an_activation_the_code_declines_is_a_failure_when_grading(tmp_path):
    source = (HERE / "corpus" / "mlp_correct_relu_tanh_only.py").read_text()
    submission, spec, results = setup(tmp_path, source)
    spec.write_text(spec.read_text().replace('convention = "two_layer_grads"', 'convention = "mlp_grads"'))
    _, document, _ = grade(submission, spec, results)
    (test,) = document["tests"]
    assert test["score"] == 0 and test["status"] == "failed"
    assert test["output"].startswith("mlp_grads: FAIL")
    assert "σ ∈ {relu, sigmoid, tanh}" in test["output"] and "it rejects σ = sigmoid" in test["output"]


def test_the_sandbox_hides_single_files_too(tmp_path):
    from gradcheck.grader.sandbox import Sandbox

    secret = tmp_path / "key.txt"
    secret.write_text("the answers")
    (tmp_path / "sub").mkdir()
    probe = tmp_path / "sub" / "probe.py"
    probe.write_text(f"def read():\n    try:\n        return open({str(secret)!r}).read()\n"
                     f"    except OSError as exc:\n        return type(exc).__name__\n")
    if not best_layer().startswith("bubblewrap"):
        pytest.skip("hiding files needs bubblewrap")
    with Sandbox(probe, hide=[secret]) as box:
        assert box.module().read() in ("", "PermissionError", "FileNotFoundError")


def test_a_check_can_have_its_own_time_limit(tmp_path):
    source = (HERE / "hostile" / "infinite_loop.py").read_text()
    submission, spec, results = setup(tmp_path, source, "time_limit = 2")
    _, document, elapsed = grade(submission, spec, results)
    assert "time limit of 2 s exceeded" in document["tests"][0]["output"]


def test_the_time_limit_counts_the_submissions_time_not_the_graders(tmp_path):
    from gradcheck.grader.sandbox import Limits, Sandbox

    quick = tmp_path / "quick.py"
    quick.write_text("def double(x):\n    return 2 * x\n")
    with Sandbox(quick, limits=Limits(seconds=8)) as box:  # ample for two tiny calls, even on a busy machine
        first = box.module().double(1)
        time.sleep(9)  # the grader computing its verdicts for longer than the whole limit
        assert (first, box.module().double(2)) == (2, 4)


def test_an_inconclusive_check_never_scores_full_marks_and_is_flagged_for_staff():
    import numpy as np

    from gradcheck.checks.result import CheckResult
    from gradcheck.compare import compare
    from gradcheck.grader import formats
    from gradcheck.grader.grade import Grade, Graded, _score
    from gradcheck.grader.spec import CheckSpec

    judged = compare(np.ones(4), np.ones(4), tensor="W1")
    unjudged = compare(np.ones(4), np.ones(4), tensor="W2", checkable=np.zeros(4, bool))
    result = CheckResult("two_layer_grads", "gradient function", (judged, unjudged), 0)
    check = CheckSpec("grads", "hw.py", "two_layer_grads", "two_layer_grads", weight=4, partial_credit=True)
    assert result.inconclusive and _score(check, result) == 2.0
    assert _score(CheckSpec("grads", "hw.py", "two_layer_grads", "two_layer_grads", weight=4), result) == 0.0
    grade = Grade("hw", "alice", "rlimits", (Graded(check, 1, 2.0, "failed", "…", 0.1, result, inconclusive=True),), 0.1)
    document = json.loads(formats.gradescope(grade))
    assert document["extra_data"] == {"needs_review": ["grads"], "grading_failed": [], "unsafe_no_sandbox": False}
    assert "Flagged for review by course staff: grads could not be judged." in document["output"]


def test_require_stability_is_read_from_the_assignment_and_overridden_per_check(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text("[assignment]\nseed = 1\nrequire_stability = true\n"
                    "[[check]]\nfile = 'a.py'\nconvention = 'nn_epoch'\n"
                    "[[check]]\nfile = 'a.py'\nconvention = 'softmax_loss'\nrequire_stability = false\n")
    first, second = spec_module.load(path).checks
    assert first.require_stability is True and second.require_stability is False
    path.write_text("[assignment]\nseed = 1\n[[check]]\nfile = 'a.py'\nconvention = 'nn_epoch'\nrequire_stability = 'yes'\n")
    with pytest.raises(InvalidArgument, match="check 1: require_stability must be bool; got 'yes'"):
        spec_module.load(path)
