"""DLSys hw1's needle: every op and engine function gets its own verdict, and each mistake fails where it is made.

tests/dlsys_hw1 is a complete, correct hw1 checkout (the 2023 layout); each mistake of
tests/dlsys_hw1/needle_mistakes.py edits a copy of it.
"""

from __future__ import annotations

import json
import re
import pathlib
import shutil
import subprocess
import sys

import pytest

from gradcheck import coverage
from gradcheck.adapters import load
from gradcheck.checks.conventions import check_module, detect
from gradcheck.checks import needle as nd
from gradcheck.checks.needle import ENGINE_FUNCTIONS, NETWORKS, OPS
from gradcheck.compare import BEYOND as BEYOND_HANDOUT, Verdict
from gradcheck.report import summary

HERE = pathlib.Path(__file__).parent / "dlsys_hw1"
sys.path.insert(0, str(HERE))
from needle_mistakes import ALONE, BEYOND, GRADIENTS, Mistake  # noqa: E402

FUNCTIONS = tuple(op.name for op in OPS) + ENGINE_FUNCTIONS
EVERYTHING = FUNCTIONS + tuple(name for name, _ in NETWORKS)  # the networks, built from every op, come last


def checkout(root: pathlib.Path, mistakes: dict[str, Mistake] | None = None) -> pathlib.Path:
    """A copy of the correct checkout under ``root``, with ``mistakes`` made in it."""
    shutil.copytree(HERE / "python", root / "python", ignore=shutil.ignore_patterns("__pycache__"))
    for label, m in (mistakes or {}).items():
        path = root / m.file
        text = path.read_text()
        assert text.count(m.correct) == 1, label
        path.write_text(text.replace(m.correct, m.wrong))
    return root


def verdicts(root: pathlib.Path):
    module, _ = load(str(root))
    assert detect(module) == ("needle",)
    (result,) = check_module(module)
    return result, {name: verdict for name, verdict, _ in result.functions()}


def test_the_correct_package_passes_with_one_verdict_per_op_and_engine_function():
    result, table = verdicts(HERE)
    assert result.passed, result.render()
    assert tuple(table) == EVERYTHING and set(table.values()) == {Verdict.PASS}
    witnesses = {c.witnesses[1] for c in result.comparisons if " gradient " in c.tensor}
    assert witnesses == {"JAX (float64)", "finite differences of your compute"}


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 8, 13])
def test_the_correct_package_passes_on_other_draws_too(seed):
    # every op on fresh inputs: the finite differences of compute must not find kinks or errors in correct ops
    module, _ = load(str(HERE))
    (result,) = check_module(module, seed=seed)
    assert result.passed, result.render()


@pytest.mark.parametrize("where", ["", "python", "python/needle"])
def test_a_checkout_is_found_from_its_root_its_python_folder_or_the_package_itself(where):
    module, _ = load(str(HERE / where) if where else str(HERE))
    assert module.__name__ == "needle" and detect(module) == ("needle",)


def test_every_op_and_engine_function_has_a_mistake():
    assert {m.function for m in GRADIENTS.values()} | {m.function for m in ALONE.values()} == set(FUNCTIONS)


def test_each_gradient_mistake_fails_its_own_op_and_no_other(tmp_path):
    result, table = verdicts(checkout(tmp_path, GRADIENTS))
    broken = {m.function for m in GRADIENTS.values()} | {name for name, _ in NETWORKS}  # built from those ops
    assert {name for name, v in table.items() if v is Verdict.FAIL} == broken, result.render()
    assert all(table[name] is Verdict.PASS for name in set(table) - broken)
    # the compute of every op is still right: only gradients fail
    assert not [c for c in result.failures if c.tensor.endswith(" out")]
    _named(result, GRADIENTS)
    networks = {name for name, _ in NETWORKS}
    assert {c.bug for c in result.failures if c.tensor.split()[0] in networks} == {"built_from_failing_parts"}


def _named(result, mistakes: dict[str, Mistake]) -> None:
    """Each mistake with a catalogued cause is named in the function it breaks; the others stay unknown."""
    for label, m in mistakes.items():
        bugs = {c.bug for c in result.failures if c.tensor.split()[0] == m.function}
        assert bugs == ({m.bug} if m.bug else {None}), (label, bugs)


@pytest.mark.parametrize("label", list(ALONE))
def test_a_mistake_in_compute_or_the_sort_fails_where_it_reaches(tmp_path, label):
    mistake = ALONE[label]
    result, table = verdicts(checkout(tmp_path, {label: mistake}))
    assert {name for name, v in table.items() if v is Verdict.FAIL} == {mistake.function, *mistake.also}, result.render()
    _named(result, {label: mistake})


def test_an_engine_that_walks_the_sort_forwards_is_named_by_an_experiment_and_its_keyerror_said_briefly(tmp_path):
    # given find_topo_sort's order reversed, the student's own engine gets x.grad right: that names the mistake
    result, _ = verdicts(checkout(tmp_path, {k: ALONE[k] for k in ("the engine walks the sort from the inputs up",)}))
    (first, *_) = [c for c in result.failures if c.tensor.startswith("compute_gradient_of_variables")]
    assert first.bug == "engine_order_not_reversed"
    line = summary(first)
    assert "raised KeyError: a Tensor of shape (3, 2), a key the dict does not hold at autograd.py" in line
    assert len(line) < 400 and "\n" not in line


def test_the_handouts_blind_spots_are_not_inherited(tmp_path):
    # an all-ones out_grad, a gradient that only broadcasts to its input's shape, an exponent of 0
    result, _ = verdicts(checkout(tmp_path, {k: GRADIENTS[k] for k in (
        "AddScalar ignores out_grad (the handout's all-ones test passes it)",
        "Summation's gradient broadcast without reshaping first", "PowerScalar without the exponent factor")}))
    networks = {name for name, _ in NETWORKS}  # built with Summation, they fail through it
    assert {c.tensor.split()[0] for c in result.failures} - networks == {"AddScalar", "Summation", "PowerScalar"}


def test_a_package_with_only_some_ops_done_lists_the_rest_as_not_implemented(tmp_path):
    root = checkout(tmp_path)
    ops = root / "python/needle/ops/ops_mathematic.py"
    text = ops.read_text()
    for body in ("        return a ** b\n", "        a, b = node.inputs\n        return out_grad * b * a ** (b - 1), out_grad * node * log(a)\n"):
        assert text.count(body) == 1
        text = text.replace(body, "        raise NotImplementedError()\n")
    ops.write_text(text)
    module, _ = load(str(root))
    (result,) = check_module(module)
    assert result.passed and "EWisePow" not in {name for name, _, _ in result.functions()}
    assert coverage.of(module, ("needle",)).lines()[0].startswith("not checked: EWisePow (not implemented)")


EWISEDIV_STUB = {"EWiseDiv not done": Mistake("EWiseDiv", "python/needle/ops/ops_mathematic.py", """        return a / b
""", """        raise NotImplementedError()
"""), "EWiseDiv's gradient not done": Mistake("EWiseDiv", "python/needle/ops/ops_mathematic.py", """        a, b = node.inputs
        return out_grad / b, -out_grad * a / b ** 2
""", """        raise NotImplementedError()
""")}


def test_a_gradient_that_stops_in_an_unimplemented_op_is_not_judged_yet_and_says_which_to_do_first(tmp_path):
    # Log's gradient divides out_grad by a Tensor: with EWiseDiv still a stub it cannot run, right or wrong
    result, table = verdicts(checkout(tmp_path, EWISEDIV_STUB))
    assert not result.passed and not result.failures
    assert table["Log"] is Verdict.INCONCLUSIVE and "EWiseDiv" not in table
    assert {name for name, verdict in table.items() if verdict is not Verdict.PASS} == {"Log", "two_layer_net", "three_layer_net"}
    (record, *_) = [c for c in result.comparisons if c.tensor.startswith("Log gradient")
                    and c.verdict is Verdict.INCONCLUSIVE]
    assert "calls an op that is not implemented yet (EWiseDiv is still the handout stub)" in record.not_checkable_reason
    assert result.advice.startswith("implement EWiseDiv, then run again")


def test_a_gradient_raising_notimplementederror_itself_still_fails_while_another_op_is_a_stub(tmp_path):
    log_raises = Mistake("Log", "python/needle/ops/ops_mathematic.py", "        return out_grad / node.inputs[0]\n",
                         "        if isinstance(out_grad, float):\n            return out_grad\n"
                         "        raise NotImplementedError('Log of a Tensor')\n")  # more than a stub: it is checked
    _, table = verdicts(checkout(tmp_path, {**EWISEDIV_STUB, "Log's gradient left to do": log_raises}))
    assert table["Log"] is Verdict.FAIL


def test_finite_differences_of_compute_still_fail_a_gradient_off_by_a_millionth_where_they_are_scaled(tmp_path):
    # f is offset by 4·Σ|out_grad·out| for its rounding, and near 800 LogSumExp is differenced with a unit-scale
    # step: neither lets a gradient off by a relative 1e-6 pass the witness that does not know the op
    off = {"EWiseMul off by 1e-6": Mistake("EWiseMul", "python/needle/ops/ops_mathematic.py",
                                           "        return out_grad * rhs, out_grad * lhs\n",
                                           "        return out_grad * rhs * (1 + 1e-6), out_grad * lhs\n"),
           "LogSumExp off by 1e-6": Mistake("LogSumExp", "python/needle/ops/ops_logarithmic.py",
                                            "* exp(Z - kept)\n", "* exp(Z - kept) * (1 + 1e-6)\n")}
    result, _ = verdicts(checkout(tmp_path, off))
    by_differences = {(c.tensor, c.problem) for c in result.failures if c.witnesses[1] == nd.FD}
    assert ("EWiseMul gradient a", "EWiseMul: a 3×4, b 3×4") in by_differences
    assert ("EWiseMul gradient b", "EWiseMul: a 3×4, b 3×4") not in by_differences
    near = [p for t, p in by_differences if t == "LogSumExp gradient a"]
    assert "LogSumExp: a 3×4 near 800, axes (1,)" in near and len(near) == 4


def test_the_readmes_command_on_a_checkout_prints_one_verdict_per_op_and_exits_0():
    import re

    repo = HERE.parent.parent
    command = re.search(r"```\n(gradcheck check tests/dlsys_hw1)\n```", (repo / "README.md").read_text()).group(1)
    out = subprocess.run([sys.executable, "-m", "gradcheck", *command.split()[1:]], capture_output=True, text=True,
                         timeout=600, cwd=repo)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.findall(r"^    PASS +(\w+)$", out.stdout, re.M) == list(EVERYTHING)
    # the checkout's apps/simple_ml.py is checked too: hw0's functions again, on the student's own needle
    assert re.findall(r"^(\S+): PASS", out.stdout, re.M) == ["dlsys_hw1", "simple_ml.py:nn_epoch", "simple_ml.py:softmax_loss"]


def test_a_checkouts_apps_still_the_handout_stub_is_listed_not_failed(tmp_path):
    root = checkout(tmp_path)
    shutil.copytree(HERE / "apps", root / "apps", ignore=shutil.ignore_patterns("__pycache__"))
    apps = root / "apps" / "simple_ml.py"
    lines = apps.read_text().splitlines(keepends=True)
    begin = max(i for i, line in enumerate(lines) if "### BEGIN YOUR SOLUTION" in line)  # nn_epoch's, the last
    end = max(i for i, line in enumerate(lines) if "### END YOUR SOLUTION" in line)
    apps.write_text("".join(lines[:begin + 1] + ["    raise NotImplementedError()\n"] + lines[end:]))
    out = subprocess.run([sys.executable, "-m", "gradcheck", "check", "."], capture_output=True, text=True,
                         timeout=600, cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.findall(r"^(\S+): PASS", out.stdout, re.M) == [root.name, "simple_ml.py:softmax_loss"]
    assert f"{pathlib.Path('apps') / 'simple_ml.py'}: not checked: nn_epoch (not implemented)" in out.stdout


def test_a_wrong_nn_epoch_in_a_checkouts_apps_fails_the_folder_run_and_the_report_names_its_file(tmp_path):
    root = checkout(tmp_path)
    shutil.copytree(HERE / "apps", root / "apps", ignore=shutil.ignore_patterns("__pycache__"))
    apps = root / "apps" / "simple_ml.py"
    text = apps.read_text()
    assert text.count("W1.numpy() - lr * ") == 1
    apps.write_text(text.replace("W1.numpy() - lr * ", "W1.numpy() - 2 * lr * "))
    out = subprocess.run([sys.executable, "-m", "gradcheck", "check", ".", "--report", "r.json"], capture_output=True,
                         text=True, timeout=600, cwd=root)
    assert out.returncode == 1 and out.stdout.startswith(f"{root.name}: PASS"), out.stdout + out.stderr
    assert "\nsimple_ml.py:nn_epoch: FAIL" in out.stdout
    checks = json.loads((root / "r.json").read_text())["checks"]
    assert {(c["test"], c["verdict"]) for c in checks if c["target"] == "simple_ml.py:nn_epoch"} == {
        (f"{pathlib.Path('apps') / 'simple_ml.py'}:nn_epoch", "fail")}


def test_the_2022_layout_with_one_ops_py_and_no_init_module_is_checked_the_same(tmp_path):
    root = checkout(tmp_path)
    package = root / "python" / "needle"
    ops = (package / "ops" / "ops_mathematic.py").read_text().replace("from ..autograd import", "from .autograd import")
    shutil.rmtree(package / "ops")
    (package / "ops.py").write_text(ops)
    (package / "__init__.py").write_text("from .autograd import Tensor, cpu, all_devices\nfrom . import ops\nfrom .ops import *\n")
    (package / "init.py").unlink()  # 2022's hw1 has no init module: backward() builds its ones itself
    autograd = (package / "autograd.py").read_text().replace("from needle import init\n", "")
    (package / "autograd.py").write_text(autograd.replace(
        "init.ones(*self.shape, dtype=self.dtype, device=self.device)", "Tensor(numpy.ones(self.shape))"))
    result, table = verdicts(root)
    assert result.passed and tuple(table) == tuple(n for n in EVERYTHING if n != "LogSumExp"), result.render()  # hw2's


def test_the_networks_wait_for_every_op_they_are_built_from_and_say_so(tmp_path):
    root = checkout(tmp_path)
    ops = root / "python/needle/ops/ops_mathematic.py"
    body = "        return a / self.scalar\n"
    assert ops.read_text().count(body) == 1
    ops.write_text(ops.read_text().replace(body, "        raise NotImplementedError()\n"))
    module, _ = load(str(root))
    (result,) = check_module(module)
    assert result.passed and not {"DivScalar", "two_layer_net", "three_layer_net"} & {n for n, _, _ in result.functions()}
    assert coverage.of(module, ("needle",)).lines() == [
        "not checked: DivScalar (not implemented), two_layer_net (built from DivScalar), three_layer_net (built from "
        "DivScalar) — they are not implemented yet or built from what is not, so the exit status says nothing about them"]


def test_an_engine_left_as_the_handouts_stub_after_its_given_lines_is_not_implemented_not_failed(tmp_path):
    # hw1's compute_gradient_of_variables comes with lines of its own before the stub: it still always raises
    autograd = (HERE / "python/needle/autograd.py").read_text()
    engine = autograd[autograd.index("def compute_gradient_of_variables"):]
    solution = engine[engine.index("    ### BEGIN YOUR SOLUTION\n"):engine.index("    ### END YOUR SOLUTION\n")]
    stub = Mistake("compute_gradient_of_variables", "python/needle/autograd.py", solution,
                   "    ### BEGIN YOUR SOLUTION\n    raise NotImplementedError()\n")
    module, _ = load(str(checkout(tmp_path, {"engine not done": stub})))
    (result,) = check_module(module)
    assert result.passed and "compute_gradient_of_variables" not in {n for n, _, _ in result.functions()}, result.render()
    (line,) = coverage.of(module, ("needle",)).lines()
    assert line.startswith("not checked: compute_gradient_of_variables (not implemented), two_layer_net (built from "
                           "compute_gradient_of_variables)")
    # one that computes and then forgets to return is not a stub: it is judged, and fails
    forgot = stub._replace(wrong=solution + "    raise NotImplementedError()\n")
    result, table = verdicts(checkout(tmp_path / "forgot", {"raises after its work": forgot}))
    assert table["compute_gradient_of_variables"] is Verdict.FAIL


def test_hw1s_simple_ml_written_with_needle_goes_through_hw0s_epoch_and_loss_checks(tmp_path):
    module, _ = load(str(HERE / "apps" / "simple_ml.py"))
    assert detect(module) == ("nn_epoch", "softmax_loss")
    assert all(r.passed for r in check_module(module))
    # a W2 step that forgets the learning rate fails the epoch, not the loss
    root = checkout(tmp_path)
    (root / "apps").mkdir()
    source = (HERE / "apps" / "simple_ml.py").read_text()
    assert source.count("W2.numpy() - lr * W2.grad.numpy()") == 1
    (root / "apps" / "simple_ml.py").write_text(source.replace("W2.numpy() - lr * W2.grad.numpy()", "W2.numpy() - W2.grad.numpy()"))
    module, _ = load(str(root / "apps" / "simple_ml.py"))
    epoch, loss = check_module(module)
    assert not epoch.passed and loss.passed
    assert "W2" in {c.tensor for c in epoch.failures}
    # steps computed but never kept: hw1's contract is said (return new Tensors), not hw0's (update in place)
    kept = "        W1 = ndl.Tensor(W1.numpy() - lr * W1.grad.numpy(), dtype=W1.dtype)\n        W2 = ndl.Tensor("
    assert source.count(kept) == 1
    (root / "apps" / "simple_ml.py").write_text(source.replace(kept, "        ndl.Tensor(W1.numpy() - lr * W1.grad.numpy(), "
                                                                     "dtype=W1.dtype)\n        ndl.Tensor("))
    module, _ = load(str(root / "apps" / "simple_ml.py"))
    epoch, _ = check_module(module)
    said = " ".join(c.not_checkable_reason or "" for c in epoch.comparisons) + epoch.render()
    assert "must return the updated (W1, W2) as new Tensors" in said and "in place" not in said, said[:2000]


def test_the_2023_handouts_own_ewisepow_gradient_which_raises_is_not_blamed_on_the_student(tmp_path):
    root = checkout(tmp_path)
    ops = root / "python/needle/ops/ops_mathematic.py"
    given = """        if not isinstance(node.inputs[0], NDArray) or not isinstance(node.inputs[1], NDArray):
            raise ValueError("Both inputs must be tensors (NDArray).")
        a, b = node.inputs[0], node.inputs[1]
        return out_grad * b * (a ** (b - 1)), out_grad * (a ** b) * log(a)
"""
    text = ops.read_text()
    body = "        a, b = node.inputs\n        return out_grad * b * a ** (b - 1), out_grad * node * log(a)\n"
    assert text.count(body) == 1
    ops.write_text(text.replace(body, given))
    result, table = verdicts(root)
    assert result.passed and "EWisePow" not in table, result.render()
    assert result.unsupported and "2023 handout's own" in result.unsupported[0]


def test_one_file_of_the_package_is_pointed_to_its_folder():
    out = subprocess.run([sys.executable, "-m", "gradcheck", "check", str(HERE / "python/needle/ops/ops_mathematic.py")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "give the checkout's folder" in out.stderr


GRADING_SPEC = """
[assignment]
name = "hw1"
seed = 2468
time_limit = 120

[[check]]
name = "needle"
file = "{file}"
convention = "needle"
weight = 10
"""
# a package that rewrites the grader's calls into it, in its own process, to look like it has nothing to check
CLAIMS_NOTHING = '''
import sys as _sys
_calls = _sys.modules.get("needle_calls")
if _calls is not None:
    _calls.inventory = lambda ndl, ops, engine: {"present": True, "name": "needle", "ops": {}, "engine": {}}
'''


def test_a_needle_checkout_is_graded_op_by_op_in_the_sandbox_and_every_hw1_op_is_asked_for(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "graded"
    checkout(submissions / "correct")
    checkout(submissions / "sign", {k: GRADIENTS[k] for k in ("EWiseDiv's divisor gradient with the wrong sign",)})
    ops = "python/needle/ops/ops_mathematic.py"
    stub = "        raise NotImplementedError()\n"
    checkout(submissions / "no_pow", {"EWisePow not done": Mistake("EWisePow", ops, "        return a ** b\n", stub)})
    checkout(submissions / "no_matmul", {"MatMul not done": Mistake("MatMul", ops, "        return a @ b\n", stub)._replace(
        correct="        ### BEGIN YOUR SOLUTION\n        return a @ b\n", wrong="        ### BEGIN YOUR SOLUTION\n" + stub)})
    checkout(submissions / "claims_nothing")
    init = submissions / "claims_nothing" / "python/needle/__init__.py"
    init.write_text(init.read_text() + CLAIMS_NOTHING)
    spec = tmp_path / "spec.toml"
    spec.write_text(GRADING_SPEC.format(file="."))
    done = subprocess.run([sys.executable, "-m", "gradcheck", "grade", str(submissions), "--spec", str(spec), "--batch",
                           str(out), "--jobs", "2"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    scores = dict(line.split(",")[:2] for line in (out / "summary.csv").read_text().splitlines()[1:])
    outputs = {name: json.loads((out / name / "results.json").read_text())["tests"][0]["output"] for name in scores}
    # EWisePow is optional in hw1: left undone, it costs nothing; every op hw1 asks for is needed for the marks
    assert scores == {"claims_nothing": "0", "correct": "10", "no_matmul": "0", "no_pow": "10", "sign": "0"}, outputs
    assert "PASS         find_topo_sort" in outputs["correct"] and "PASS         MatMul" in outputs["correct"]
    failing = lambda name: {line.split()[1].rstrip(":") for line in outputs[name].splitlines()
                            if line.startswith("    FAIL")}
    assert failing("sign") == {"EWiseDiv"}, outputs["sign"]  # the seed's networks do not divide by a Tensor
    assert "an op's gradient has the wrong sign" in outputs["sign"]
    assert "MatMul is still the handout stub: this assignment asks for it" in outputs["no_matmul"]
    assert failing("claims_nothing") >= {"EWiseAdd", "MatMul", "find_topo_sort", "compute_gradient_of_variables"}
    assert "EWiseAdd is missing: this assignment asks for it" in outputs["claims_nothing"]


def test_a_grading_spec_names_the_checkouts_folder_and_a_folder_without_needle_is_a_zero_that_says_so(tmp_path):
    submission, out = tmp_path / "submission", tmp_path / "results.json"
    checkout(submission)
    (submission / "notes").mkdir()
    spec = tmp_path / "spec.toml"
    spec.write_text(GRADING_SPEC.format(file="python/needle")
                    + '[[check]]\nname = "elsewhere"\nfile = "notes"\nconvention = "needle"\n')
    done = subprocess.run([sys.executable, "-m", "gradcheck", "grade", str(submission), "--spec", str(spec),
                           "--gradescope", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    tests = {t["name"]: t for t in json.loads(out.read_text())["tests"]}
    assert tests["needle"]["score"] == 10, tests["needle"]["output"][:2000]
    assert tests["elsewhere"]["score"] == 0
    assert "notes holds no needle package: the checkout's python/needle/__init__.py was not found there" in (
        tests["elsewhere"]["output"])


def test_hw1s_simple_ml_is_graded_in_the_sandbox_with_the_needle_tensors_built_there(tmp_path):
    source = (HERE / "apps" / "simple_ml.py").read_text()
    spec = tmp_path / "spec.toml"
    spec.write_text("[assignment]\nseed = 77\ntime_limit = 60\n"
                    + "".join(f'[[check]]\nconvention = "{c}"\nfile = "apps/simple_ml.py"\n' for c in ("nn_epoch", "softmax_loss")))
    scores = {}
    for name, text in (("correct", source), ("no_lr", source.replace("W2.numpy() - lr * W2.grad.numpy()",
                                                                      "W2.numpy() - W2.grad.numpy()"))):
        root = checkout(tmp_path / name)
        (root / "apps").mkdir()
        (root / "apps" / "simple_ml.py").write_text(text)
        out = tmp_path / f"{name}.json"
        done = subprocess.run([sys.executable, "-m", "gradcheck", "grade", str(root), "--spec", str(spec),
                               "--gradescope", str(out)], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        scores[name] = {t["name"]: t["score"] for t in json.loads(out.read_text())["tests"]}
    assert scores == {"correct": {"nn_epoch": 1, "softmax_loss": 1}, "no_lr": {"nn_epoch": 0, "softmax_loss": 1}}



@pytest.mark.parametrize("label", list(BEYOND))
def test_a_mistake_only_in_a_case_the_handout_never_makes_warns_instead_of_failing(tmp_path, label):
    mistake = BEYOND[label]
    result, table = verdicts(checkout(tmp_path, {label: mistake}))
    assert result.passed and table[mistake.function] is Verdict.PASS, result.render()
    assert result.warnings and {(w.tensor.split()[0], w.bug, w.finding) for w in result.warnings} == {
        (mistake.function, mistake.bug, BEYOND_HANDOUT)}


def test_a_summation_gradient_wrong_for_an_int_axes_fails_there_and_does_not_warn(tmp_path):
    # the int-axes case warns only when Summation cannot take an int; a wrong gradient for one still fails
    label = "Summation's gradient broadcast without reshaping first"
    result, table = verdicts(checkout(tmp_path, {label: GRADIENTS[label]}))
    assert table["Summation"] is Verdict.FAIL and not result.warnings
    assert "Summation: a 3×4, axes 1" in {c.problem for c in result.failures if c.tensor.startswith("Summation")}


def test_the_warning_says_why_the_case_is_beyond_the_handout_and_a_wrong_value_there_still_fails(tmp_path):
    # hw1's tests never broadcast a MatMul batch axis of size 1: a gradient that sums it away warns
    result, _ = verdicts(checkout(tmp_path / "dropped", {k: BEYOND[k] for k in ("MatMul sums a broadcast batch of one away",)}))
    assert {w.tensor for w in result.warnings} == {"MatMul gradient a", "MatMul gradient b"}
    text = result.render()
    assert "WARNING beyond the handout: MatMul gradient b (1, 4, 5): shape mismatch: expected (1, 4, 5), got (4, 5)" in text
    assert "hw1's tests never broadcast a batch axis of size 1" in text
    # the same case with the right shape and wrong values fails
    label = "MatMul averages a broadcast batch of one"
    result, table = verdicts(checkout(tmp_path / "averaged", {label: ALONE[label]}))
    assert table["MatMul"] is Verdict.FAIL and not result.warnings
    assert {c.problem for c in result.failures} == {"MatMul: a 2×3×4, b 1×4×5", "MatMul: a 1×3×4, b 2×4×5"}
