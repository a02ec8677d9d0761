"""The autograder: hostile submissions never beat it, honest ones get the grade they earned."""

from __future__ import annotations

import atexit
import dataclasses
import functools
import json
import math
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

from gradcheck.grader import spec as spec_module
from gradcheck.grader.sandbox import BUBBLEWRAP, NAMESPACE, UNSHARE, best_layer
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


@dataclasses.dataclass(frozen=True)
class Layer:
    """A sandbox layer, and a Python interpreter the grader can run it with on this machine."""

    name: str
    python: str


# Gradescope runs the grader as root: there, every layer a root grader can use is tried.
TRIED_LAYERS = (BUBBLEWRAP, UNSHARE) if os.geteuid() == 0 else (NAMESPACE,)


def _problem(python: str, layer: str) -> str:
    probe = subprocess.run([python, "-c", "import sys; from gradcheck.grader.sandbox import _works; "
                                          "print(_works(sys.argv[1]))", layer], capture_output=True, text=True)
    return probe.stdout.strip() if probe.returncode == 0 else probe.stderr.strip()[-300:]


@pytest.fixture(scope="session")
def readable_python():
    """A Python every uid can read (this one may live under /root), with this one's packages: or None."""
    built: list[str | None] = []
    folder = pathlib.Path(tempfile.mkdtemp(prefix="gradcheck-readable-python-"))

    def make() -> str | None:
        if not built:
            system = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin")
            folder.chmod(0o755)
            made = system and subprocess.run([system, "-m", "venv", "--without-pip", str(folder / "venv")],
                                             capture_output=True).returncode == 0
            if made:
                site = next((folder / "venv" / "lib").glob("python*/site-packages"))
                paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], str(HERE.parent)}
                (site / "gradcheck-tests.pth").write_text("\n".join(sorted(paths)) + "\n")
                subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
            built.append(str(folder / "venv" / "bin" / "python") if made else None)
        return built[0]

    yield make
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", params=TRIED_LAYERS, ids=lambda name: name.split(",")[0])
def layer(request, readable_python) -> Layer:
    """Each layer available here, run by this Python or, if its uid cannot read this one, a readable one."""
    problem = _problem(sys.executable, request.param)
    if not problem:
        return Layer(request.param, sys.executable)
    python = readable_python() if "did not start" in problem else None
    if python and not _problem(python, request.param):
        return Layer(request.param, python)
    if request.param == BUBBLEWRAP and shutil.which("bwrap"):
        pytest.fail(f"bubblewrap is installed but its layer does not work: {problem}")
    pytest.skip(f"the {request.param} layer cannot run here: {problem}")


def setup(tmp_path, source: str, extra: str = "") -> tuple[pathlib.Path, pathlib.Path, pathlib.Path]:
    submission, private, results = tmp_path / "submission", tmp_path / "source", tmp_path / "results"
    for folder in (submission, private, results):
        folder.mkdir()
    spec = private / "spec.toml"
    spec.write_text(SPEC.format(seed=SECRET_SEED, extra=extra))
    (private / "reference_solution.py").write_text(f"# the answer key, seed {SECRET_SEED}\n")
    (submission / "hw.py").write_text(source.replace("SPEC_PATH_PLACEHOLDER", str(spec))
                                      .replace("ROOT_ONLY_PLACEHOLDER", str(root_only_file())))
    return submission, spec, results


ROOT_ONLY = "only root may read this line"


@functools.lru_cache(maxsize=None)
def root_only_file() -> pathlib.Path:
    """A file only its owner may read, in a folder every uid may enter (outside /tmp, which sandboxes replace)."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="gradcheck-root-only-", dir="/var/tmp"))
    atexit.register(shutil.rmtree, folder, True)
    folder.chmod(0o755)
    path = folder / "secret.txt"
    path.write_text(ROOT_ONLY + "\n")
    path.chmod(0o600)
    return path


def grade(submission, spec, results, *extra, env=None, layer: Layer | None = None,
          code: int | None = 0) -> tuple[subprocess.CompletedProcess, dict, float]:
    """Run ``gradcheck grade`` as a course's staff would; ``code`` is the exit status it must end with."""
    start = time.monotonic()
    python = layer.python if layer else sys.executable
    env = {**os.environ, **(env or {}), **({"GRADCHECK_SANDBOX": layer.name} if layer else {})}
    out = subprocess.run([python, "-m", "gradcheck", "grade", str(submission), "--spec", str(spec),
                          "--gradescope", str(results / "results.json"), *extra],
                         capture_output=True, text=True, timeout=300, env=env)
    elapsed = time.monotonic() - start
    if code is not None:
        assert out.returncode == code, out.stderr
    document = json.loads((results / "results.json").read_text())
    return out, document, elapsed


def expected_reason(path: pathlib.Path) -> str:
    return re.search(r'^EXPECT = r?"(.*)"$', path.read_text(), re.M).group(1)


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_a_hostile_submission_scores_zero_with_a_reason_and_cannot_touch_the_results(tmp_path, path, layer):
    source = path.read_text()
    listener = None
    if "PORT = 0" in source:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        source = source.replace("PORT = 0", f"PORT = {listener.getsockname()[1]}")
    submission, spec, results = setup(tmp_path, source)
    out, document, elapsed = grade(submission, spec, results, layer=layer,
                                   env={"RESULTS": str(results / "results.json"), "GRADCHECK_SECRET": str(SECRET_SEED)})
    assert elapsed < 120
    (test,) = document["tests"]
    assert test["score"] == 0 and test["status"] == "failed" and document["score"] == 0
    assert re.search(expected_reason(path), test["output"]), test["output"]
    assert "SubmissionError" not in test["output"]  # the student's own exception, in the student's words
    assert str(SECRET_SEED) not in json.dumps(document) and ROOT_ONLY not in json.dumps(document)
    assert f"Sandbox: {layer.name}." in document["output"]
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


def test_a_cs231n_assignment_2_layers_file_is_graded_function_by_function(tmp_path):
    correct = (HERE / "cs231n_a2" / "layers.py").read_text()
    sys.path.insert(0, str(HERE / "cs231n_a2"))
    from mistakes import FIRST

    for name, source, expected in (("correct", correct, 4), ("buggy", correct + FIRST["max-pool gradient to every element"].source, 0)):
        (tmp_path / name).mkdir()
        submission, spec, results = setup(tmp_path / name, source)
        spec.write_text(spec.read_text().replace('convention = "two_layer_grads"', 'convention = "layers"')
                        .replace("time_limit = 10", "time_limit = 120"))
        _, document, _ = grade(submission, spec, results, "--json", str(results / "all.json"))
        output = document["tests"][0]["output"]
        assert document["score"] == expected, output[:3000]
        assert "per function:" in output and "conv_backward_naive" in output
        if expected == 0:
            assert "FAIL         max_pool_backward_naive: max-pool backward sends each window's gradient" in output
            assert "PASS         max_pool_forward_naive" in output


def test_the_models_of_a_cs231n_checkout_are_graded_in_their_package(tmp_path):
    # cnn.py and fc_net.py import ..layers: the sandbox imports them as modules of the submitted package, and the
    # grader's params reach the submission's model (assigned in the sandbox), so its own loss is what is differenced
    sys.path.insert(0, str(HERE / "cs231n_a2"))
    import checkout

    spec_text = SPEC.replace('name = "two-layer gradients"\nfile = "hw.py"\nconvention = "two_layer_grads"',
                             'name = "convnet"\nfile = "cs231n/classifiers/cnn.py"\nconvention = "cnn"')
    spec_text = spec_text.replace("time_limit = 10", "time_limit = 120") + (
        '[[check]]\nname = "fully connected"\nfile = "cs231n/classifiers/fc_net.py"\nconvention = "fc_net"\nweight = 2\n')
    cnn = (HERE / "cs231n_a2" / "cnn.py").read_text()
    for name, broken, expected in (("correct", None, 6), ("unregularised", '        grads["W1"] += self.reg * W1\n', 2)):
        (tmp_path / name).mkdir()
        submission, spec, results = setup(tmp_path / name, "")
        (submission / "hw.py").unlink()
        package = checkout.build(submission)
        if broken:
            assert broken in cnn
            (package / "classifiers" / "cnn.py").write_text((package / "classifiers" / "cnn.py").read_text().replace(broken, ""))
        spec.write_text(spec_text.format(seed=SECRET_SEED, extra=""))
        _, document, _ = grade(submission, spec, results, "--json", str(results / "all.json"))
        outputs = "\n".join(t["output"] for t in document["tests"])
        assert document["score"] == expected, outputs[:3000]
        if broken:
            failing = {c["tensor"] for c in json.loads((results / "all.json").read_text())["checks"][0]["result"]["comparisons"]
                       if c["verdict"] == "fail"}
            assert {f.split("·")[0] for f in failing} == {"ThreeLayerConvNet W1"}, failing


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


def test_a_batch_rerun_grades_again_what_changed_and_only_that(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "graded"
    for name, source in (("alice", "two_layer_grads_correct_relu.py"), ("bob", "two_layer_grads_correct_relu.py")):
        (submissions / name).mkdir(parents=True)
        (submissions / name / "hw.py").write_text((HERE / "corpus" / source).read_text())
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format(seed=SECRET_SEED, extra=""))
    command = [sys.executable, "-m", "gradcheck", "grade", str(submissions), "--spec", str(spec), "--batch", str(out)]
    assert subprocess.run(command, capture_output=True, text=True, timeout=600).returncode == 0
    assert (out / "summary.csv").read_text().splitlines()[1:] == ["alice,4,4,,", "bob,4,4,,"]
    # bob resubmits a wrong gradient: his grade is stale, alice's is not
    (submissions / "bob" / "hw.py").write_text((HERE / "corpus" / "two_layer_grads_sign_flip.py").read_text())
    second = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert "1 of 2 already graded; grading the other 1" in second.stderr and "] bob: 0 / 4" in second.stderr
    assert "alice:" not in second.stderr
    assert (out / "summary.csv").read_text().splitlines()[1:] == ["alice,4,4,,", "bob,0,0,,"]
    # a fixed spec (another weight) grades everyone again
    spec.write_text(SPEC.format(seed=SECRET_SEED, extra="").replace("weight = 4", "weight = 5"))
    third = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert "already graded" not in third.stderr and "] alice: 5 / 5" in third.stderr
    assert (out / "summary.csv").read_text().splitlines()[1:] == ["alice,5,5,,", "bob,0,0,,"]


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


# --- A submission is its own regular files ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["symlink", "hard link", "linked folder", "fifo"])
def test_links_to_the_answer_key_and_special_files_are_refused(tmp_path, kind):
    source = (HERE / "corpus" / "two_layer_grads_correct_relu.py").read_text()
    submission, spec, results = setup(tmp_path, source)
    key = spec.parent / "solution.py"
    key.write_text(source)  # the answer key, next to the spec: full marks if the sandbox imported it
    (submission / "hw.py").unlink()
    if kind == "symlink":
        (submission / "hw.py").symlink_to(key)
    elif kind == "hard link":
        os.link(key, submission / "hw.py")
    elif kind == "linked folder":
        (submission / "hw.py").write_text(source)
        (submission / "keys").symlink_to(spec.parent, target_is_directory=True)
    else:
        (submission / "hw.py").write_text(source)
        os.mkfifo(submission / "pipe")
    _, document, _ = grade(submission, spec, results)
    (test,) = document["tests"]
    expected = {"symlink": "hw.py is a symbolic link", "hard link": "hw.py is a hard link to a file outside",
                "linked folder": "keys is a symbolic link", "fifo": "pipe is a FIFO"}[kind]
    assert test["score"] == 0 and document["score"] == 0
    assert f"the submission was refused: {expected}" in test["output"], test["output"]


def test_a_hard_link_inside_the_submission_is_its_own_file(tmp_path):
    source = (HERE / "corpus" / "two_layer_grads_correct_relu.py").read_text()
    submission, spec, results = setup(tmp_path, source)
    os.link(submission / "hw.py", submission / "copy_of_hw.py")
    _, document, _ = grade(submission, spec, results)
    assert document["score"] == 4


# --- The student's time is the student's ----------------------------------------------------------------------


@pytest.fixture
def busy_machine():
    """Two processes that keep both cores busy while the test runs."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for hog in hogs:
        hog.kill()
        hog.wait()


def test_a_correct_submission_scores_full_at_a_two_second_limit_on_a_loaded_machine(tmp_path, busy_machine, layer):
    source = (HERE / "corpus" / "two_layer_grads_correct_relu.py").read_text()
    submission, spec, results = setup(tmp_path, source, "time_limit = 2")
    _, document, _ = grade(submission, spec, results, layer=layer)
    assert document["score"] == 4, document["tests"][0]["output"]


def test_a_loop_is_still_stopped_at_its_two_second_limit_on_a_loaded_machine(tmp_path, busy_machine):
    submission, spec, results = setup(tmp_path, (HERE / "hostile" / "infinite_loop.py").read_text(), "time_limit = 2")
    _, document, _ = grade(submission, spec, results)
    assert "time limit of 2 s exceeded (the submission used 2." in document["tests"][0]["output"]
    assert document["score"] == 0


def test_a_submission_that_sleeps_is_stopped_by_the_wall_clock_allowance(tmp_path):
    from gradcheck.grader.sandbox import Limits, Sandbox, SubmissionError

    sleepy = tmp_path / "sleepy.py"
    sleepy.write_text("import time\ndef nap():\n    time.sleep(600)\n")
    with Sandbox(sleepy, limits=Limits(seconds=1, wait_seconds=3)) as box:
        with pytest.raises(SubmissionError, match=r"did not answer within 3 s \(it used 0\.\d s of CPU of its 1 s"):
            box.module().nap()


# --- Grader faults are never a student's zero -----------------------------------------------------------------


# A layer that can never run here: as root a user namespace would map the student back to root.
UNUSABLE = {"GRADCHECK_SANDBOX": NAMESPACE if os.geteuid() == 0 else BUBBLEWRAP}


def test_a_sandbox_that_cannot_run_is_grading_failed_not_a_zero(tmp_path):
    source = (HERE / "corpus" / "two_layer_grads_correct_relu.py").read_text()
    submission, spec, results = setup(tmp_path, source)
    out, document, _ = grade(submission, spec, results, env=UNUSABLE, code=2)
    (test,) = document["tests"]
    assert test["output"].startswith("The autograder could not grade this check. This is a fault of the grading "
                                     "setup, not of your code"), test["output"]
    assert f"the {UNUSABLE['GRADCHECK_SANDBOX']} layer cannot run here" in test["output"]
    assert document["extra_data"]["grading_failed"] == ["two-layer gradients"]
    assert "GRADING FAILED for two-layer gradients" in document["output"]
    assert "grading failed for two-layer gradients" in out.stderr


def test_a_sandbox_that_cannot_be_set_up_is_a_grader_error(tmp_path, monkeypatch):
    from gradcheck.grader import sandbox

    (tmp_path / "hw.py").write_text("")
    layer = sandbox.best_layer()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sandbox.tempfile, "mkdtemp", full)
    with pytest.raises(sandbox.GraderError, match=r"the sandbox could not be set up \(OSError: \[Errno 28\] No space"):
        with sandbox.Sandbox(tmp_path / "hw.py", layer=layer):
            pass


def test_python_hidden_by_the_spec_is_shown_again_by_bubblewrap_and_refused_plainly_without_it(tmp_path, layer):
    """A TA's venv inside the hidden spec folder: the usual layout of a course's grading folder."""
    source = (HERE / "corpus" / "two_layer_grads_correct_relu.py").read_text()
    python = pathlib.Path(layer.python)
    prefix = python.parent.parent  # the venv: bin/python
    submission, spec, results = setup(tmp_path, source, )
    spec.write_text(spec.read_text().replace("memory_limit = 1024", f"memory_limit = 1024\nhide = [{str(prefix)!r}]"))
    if layer.name == UNSHARE:
        _, document, _ = grade(submission, spec, results, layer=layer, code=2)
        assert "holds the Python the submission runs with" in document["tests"][0]["output"]
        assert document["extra_data"]["grading_failed"] == ["two-layer gradients"]
    else:
        _, document, _ = grade(submission, spec, results, layer=layer)
        assert document["score"] == 4, document["tests"][0]["output"]


def test_a_batch_grades_again_what_failed_to_grade(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "graded"
    for name in ("alice", "bob"):
        (submissions / name).mkdir(parents=True)
        (submissions / name / "hw.py").write_text((HERE / "corpus" / "two_layer_grads_correct_relu.py").read_text())
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format(seed=SECRET_SEED, extra=""))
    command = [sys.executable, "-m", "gradcheck", "grade", str(submissions), "--spec", str(spec), "--batch", str(out)]
    broken = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, **UNUSABLE})
    assert broken.returncode == 2 and "grading failed for 2 submission(s) (alice, bob)" in broken.stderr
    assert "[2/2] bob: GRADING FAILED" in broken.stderr or "[1/2] bob: GRADING FAILED" in broken.stderr
    assert (out / "summary.csv").read_text().splitlines()[1] == "alice,0,0,,two-layer gradients"
    fixed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert fixed.returncode == 0, fixed.stderr
    assert "already graded" not in fixed.stderr
    assert (out / "summary.csv").read_text().splitlines()[1:] == ["alice,4,4,,", "bob,4,4,,"]


def test_a_grading_process_that_dies_leaves_results_that_say_so(tmp_path):
    from gradcheck.grader import batch

    submissions, out = tmp_path / "submissions", tmp_path / "graded"
    (submissions / "alice").mkdir(parents=True)
    (submissions / "alice" / "hw.py").write_text("")
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format(seed=SECRET_SEED, extra=""))
    original = batch._grade_one
    try:
        batch._grade_one = _killed_by_the_kernel  # as when the kernel's OOM killer ends a grader
        result = batch.grade_all(submissions, spec_module.load(spec), out, jobs=1, progress=open(os.devnull, "w"))
    finally:
        batch._grade_one = original
    assert result.failed == ("alice",)
    document = json.loads((out / "alice" / "results.json").read_text())
    assert "the grading process died (out of memory, or killed)" in document["tests"][0]["output"]
    assert document["extra_data"]["grading_failed"] == ["two-layer gradients"]


def _killed_by_the_kernel(*args, **kwargs):
    os.kill(os.getpid(), 9)


# --- Seeds no student can reverse -----------------------------------------------------------------------------


def test_no_output_shows_the_secret_or_any_seed_derived_from_it(tmp_path):
    from gradcheck.checks.conventions import REDRAW_STRIDE, REDRAWS
    from gradcheck.grader.spec import check_seed

    source = (HERE / "corpus" / "two_layer_grads_sum_instead_of_mean.py").read_text()
    submission, spec, results = setup(tmp_path, source, "partial_credit = true")
    outputs = {"gradescope": results / "results.json", "junit": results / "junit.xml",
               "prairielearn": results / "pl.json", "json": results / "all.json", "html": results / "report.html"}
    out, _, _ = grade(submission, spec, results, *(a for f, p in outputs.items() if f != "gradescope"
                                                     for a in (f"--{f}", str(p))))
    (check,) = spec_module.load(spec).checks
    base = check_seed(SECRET_SEED, check, 1)
    seeds = {SECRET_SEED, *(base + REDRAW_STRIDE * a + k for a in range(REDRAWS + 1) for k in range(64))}
    # the pictures' base64 aside: every number a student can read
    texts = [re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", p.read_text()) for p in outputs.values()]
    texts += [out.stdout, out.stderr]
    for text in texts:
        numbers = set(int(n) for n in re.findall(r"\d+", text))
        assert not numbers & seeds, f"{numbers & seeds} in {text[:300]}"
    assert "seed (hidden)" in (results / "results.json").read_text()
    assert '<img class="heatmap"' in outputs["html"].read_text()  # the page drew the wrong gradient


def test_check_seeds_are_one_way_and_differ_between_checks():
    from gradcheck.grader.spec import CheckSpec, check_seed

    first = CheckSpec("grads", "hw.py", "two_layer_grads", "two_layer_grads")
    second = CheckSpec("epoch", "hw.py", "nn_epoch", "nn_epoch")
    seeds = [check_seed(secret, check, n) for secret in (1234, 1235) for n, check in enumerate((first, second), 1)]
    assert len(set(seeds)) == 4
    assert all(s - 1234 not in (1000, 2000) for s in seeds)  # never the secret plus the check's number
    assert check_seed(1234, first, 1) == check_seed(1234, first, 1)


# --- Paths ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case, message", [
    ("missing", "the submission folder {sub} does not exist"),
    ("file", "{sub} is a file; SUBMISSION_DIR is the folder that holds the student's files"),
    ("no parent", "cannot write {out}: the folder {parent} does not exist (create it first)"),
    ("no output", "say where the results go: --gradescope PATH"),
])
def test_unusable_paths_exit_2_with_what_to_do_and_create_nothing(tmp_path, case, message):
    submission, spec, results = setup(tmp_path, "")
    if case == "missing":
        submission = tmp_path / "nobody"
    if case == "file":
        submission = submission / "hw.py"
    out_path = tmp_path / "nowhere" / "deeper" / "results.json" if case == "no parent" else results / "r.json"
    outputs = [] if case == "no output" else ["--gradescope", str(out_path)]
    out = subprocess.run([sys.executable, "-m", "gradcheck", "grade", str(submission), "--spec", str(spec), *outputs],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert message.format(sub=submission, out=out_path, parent=out_path.parent) in out.stderr
    assert not (tmp_path / "nowhere").exists() and not (results / "r.json").exists()


# --- Clean up -------------------------------------------------------------------------------------------------


def test_grading_leaves_no_temporary_folder_behind(tmp_path):
    folder = tmp_path / "tmp"
    folder.mkdir()
    folder.chmod(0o755)
    source = (HERE / "hostile" / "writes_fake_results.py").read_text()
    submission, spec, results = setup(tmp_path, source)
    grade(submission, spec, results, env={"TMPDIR": str(folder)})
    assert list(folder.iterdir()) == []


def test_no_process_of_a_submission_outlives_a_grader_killed_with_sigkill(tmp_path, layer):
    source = (HERE / "hostile" / "_outlives_a_killed_grader.py").read_text()
    submission, spec, results = setup(tmp_path, source, "time_limit = 120")
    grader = subprocess.Popen([layer.python, "-m", "gradcheck", "grade", str(submission), "--spec", str(spec),
                               "--gradescope", str(results / "results.json")],
                              env={**os.environ, "GRADCHECK_SANDBOX": layer.name},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sleeping() -> str:
        return subprocess.run(["pgrep", "-f", "sleep 4244"], capture_output=True, text=True).stdout

    try:
        for _ in range(600):
            if sleeping():
                break
            time.sleep(0.2)
        assert sleeping(), "the submission never started its process"
    finally:
        grader.kill()
        grader.wait()
    for _ in range(50):
        if not sleeping():
            break
        time.sleep(0.2)
    assert sleeping() == "", "a process of the submission outlived the grader"


# --- Every option of a check is honoured ----------------------------------------------------------------------


def test_an_mlp_graded_for_tanh_is_checked_for_tanh_only(tmp_path):
    source = (HERE / "corpus" / "mlp_correct_relu_tanh_only.py").read_text()
    submission, spec, results = setup(tmp_path, source, 'activation = "tanh"')
    spec.write_text(spec.read_text().replace('convention = "two_layer_grads"', 'convention = "mlp_grads"'))
    _, document, _ = grade(submission, spec, results)
    (test,) = document["tests"]
    assert test["score"] == 4 and "σ ∈ {tanh}" in test["output"] and "sigmoid" not in test["output"]


# --- The Gradescope example works as shipped ------------------------------------------------------------------

GRADESCOPE_STATUSES = ("passed", "failed")


def _valid_gradescope_results(document: dict, spec: spec_module.Spec) -> None:
    """The fields Gradescope documents for results.json, with the types and ranges it accepts."""
    assert set(document) <= {"score", "execution_time", "output", "output_format", "test_output_format",
                             "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
    assert isinstance(document["score"], (int, float)) and math.isfinite(document["score"])
    assert isinstance(document["execution_time"], (int, float)) and isinstance(document["output"], str)
    assert document["stdout_visibility"] in spec_module.VISIBILITIES
    assert [t["name"] for t in document["tests"]] == [c.name for c in spec.checks]
    for test, check in zip(document["tests"], spec.checks):
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number", "output",
                             "output_format", "tags", "visibility", "extra_data"}
        assert 0 <= test["score"] <= test["max_score"] == check.weight and math.isfinite(test["score"])
        assert test["status"] in GRADESCOPE_STATUSES and test["visibility"] == check.visibility
        assert isinstance(test["output"], str) and isinstance(test["number"], str)
    assert document["score"] == pytest.approx(sum(t["score"] for t in document["tests"]))


@pytest.mark.parametrize("student, full", [("correct", True), ("buggy", False)])
def test_the_gradescope_example_grades_a_simulated_autograder_layout_as_shipped(tmp_path, student, full):
    example = HERE.parent / "examples" / "gradescope"
    root = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    shutil.copy(example / "hw0.toml", root / "source")
    (root / "source" / "secret_seed").write_text("8675309\n")
    shutil.copy(HERE.parent / "examples" / "dlsys_hw0" / student / "simple_ml.py", root / "submission")
    gradcheck = pathlib.Path(sys.executable).with_name("gradcheck")
    out = subprocess.run(["bash", str(example / "run_autograder")], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "AUTOGRADER_ROOT": str(root), "GRADCHECK": str(gradcheck)})
    assert out.returncode == 0, out.stderr
    document = json.loads((root / "results" / "results.json").read_text())
    spec = spec_module.load(root / "source" / "hw0.toml")
    _valid_gradescope_results(document, spec)
    assert (document["score"] == spec_total(spec)) is full
    assert "Sandbox: bubblewrap" in document["output"] or not shutil.which("bwrap")
    assert "8675309" not in json.dumps(document)


def spec_total(spec: spec_module.Spec) -> float:
    return sum(c.weight for c in spec.checks)


def test_in_a_batch_no_student_can_touch_another_students_results(tmp_path, layer):
    submissions, out = tmp_path / "submissions", tmp_path / "graded"
    correct = (HERE / "corpus" / "two_layer_grads_correct_relu.py").read_text()
    forger = ("import glob, json, os\nimport numpy as np\nOUT = OUT_PLACEHOLDER\n"
              "def two_layer_grads(X, y, W1, W2):\n"
              "    fake = json.dumps({'score': 100, 'tests': [{'score': 100, 'max_score': 4}]})\n"
              "    for name in ('alice', 'mallory', 'zed'):\n"
              "        for path in (os.path.join(OUT, name, 'results.json'), os.path.join(OUT, 'summary.csv')):\n"
              "            try:\n"
              "                os.makedirs(os.path.dirname(path), exist_ok=True)\n"
              "                open(path, 'w').write(fake)\n"
              "            except OSError:\n"
              "                pass\n"
              "    return np.zeros_like(W1), np.zeros_like(W2)\n").replace("OUT_PLACEHOLDER", repr(str(out)))
    for name, source in (("alice", correct), ("mallory", forger), ("zed", "def two_layer_grads(X, y, W1, W2):\n    pass\n")):
        (submissions / name).mkdir(parents=True)
        (submissions / name / "hw.py").write_text(source)
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format(seed=SECRET_SEED, extra=""))
    command = [layer.python, "-m", "gradcheck", "grade", str(submissions), "--spec", str(spec), "--batch", str(out)]
    env = {**os.environ, "GRADCHECK_SANDBOX": layer.name}
    first = subprocess.run(command + ["--jobs", "2"], capture_output=True, text=True, timeout=600, env=env)
    assert first.returncode == 0, first.stderr
    expected = ["alice,4,4,,", "mallory,0,0,,", "zed,0,0,,"]
    assert (out / "summary.csv").read_text().splitlines()[1:] == expected
    again = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert "3 of 3 already graded" in again.stderr
    assert (out / "summary.csv").read_text().splitlines()[1:] == expected


def test_a_single_grading_process_that_dies_still_leaves_results(tmp_path, monkeypatch):
    from gradcheck.grader import grade as grade_module

    (tmp_path / "alice").mkdir()
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format(seed=SECRET_SEED, extra=""))
    monkeypatch.setattr(grade_module, "grade", _killed_by_the_kernel)  # the grading process inherits it
    result = grade_module.grade_supervised(tmp_path / "alice", spec_module.load(spec))
    assert result.grading_failed == ("two-layer gradients",)
    assert "the grading process died (out of memory, or killed)" in result.checks[0].output


def test_the_whole_check_watchdog_is_a_grader_error_when_the_grader_overruns(tmp_path):
    from gradcheck.grader.sandbox import GraderError, Limits, Sandbox

    quick = tmp_path / "quick.py"
    quick.write_text("def double(x):\n    return 2 * x\n")
    with Sandbox(quick, limits=Limits(seconds=1, watchdog=2)) as box:
        assert box.module().double(1) == 2
        box.watchdog = time.monotonic() + 0.2  # however long the start took on a busy machine
        time.sleep(0.5)  # the grader itself working past the whole check's allowance
        with pytest.raises(GraderError, match="grading this check took more than 2 s of wall time"):
            box.module().double(2)


def test_without_a_sandbox_the_grader_refuses_unless_told_and_then_every_result_says_so(tmp_path):
    source = (HERE / "corpus" / "two_layer_grads_correct_relu.py").read_text()
    submission, spec, results = setup(tmp_path, source)
    env = {"GRADCHECK_SANDBOX": "none (unsafe)"}
    _, document, _ = grade(submission, spec, results, env=env, code=2)
    assert "pass --unsafe-no-sandbox to use it" in document["tests"][0]["output"] and document["score"] == 0
    _, document, _ = grade(submission, spec, results, "--unsafe-no-sandbox", env=env)
    assert document["score"] == 4 and document["extra_data"]["unsafe_no_sandbox"] is True
    assert "Sandbox: none: graded with --unsafe-no-sandbox" in document["output"]


def test_a_grading_worker_refuses_to_grade_once_its_command_is_gone():
    """Also when the command is pid 1 (a container's entry point): only a changed parent means it died."""
    code = "import os, sys; from gradcheck.grader.grade import die_with_parent; die_with_parent({}); print('grading')"
    alive = subprocess.run([sys.executable, "-c", code.format("os.getppid()")], capture_output=True, text=True)
    orphan = subprocess.run([sys.executable, "-c", code.format("os.getppid() + 1")], capture_output=True, text=True)
    assert (alive.returncode, alive.stdout.strip()) == (0, "grading")
    assert (orphan.returncode, orphan.stdout) == (1, "")
