"""The terminal of the ``gradcheck`` command: colours, progress, quiet runs, typos, pipes, and where output goes."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from gradcheck import cli, witnesses
from gradcheck.checks.result import CheckResult
from gradcheck.cli import ExitCode, main
from gradcheck.compare import compare
from gradcheck.report import render, summary
from gradcheck.terminal import Terminal

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
BUGGY_HW0 = HERE.parent / "examples" / "dlsys_hw0" / "buggy" / "simple_ml.py"  # nn_epoch wrong, the other two right
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TINY_GRID = ("--widths", "3,4,2", "--activation", "relu", "tanh", "--bias", "no", "--reduction", "sum")  # two rows


def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | (env or {})
    return subprocess.run([sys.executable, "-m", "gradcheck", *args], capture_output=True, text=True, timeout=600,
                          env=environ, cwd=cwd)


def read_all(fd: int) -> str:
    """What has been written to the other side of a pseudo-terminal so far."""
    chunks = []
    while select.select([fd], [], [], 0)[0]:
        try:
            chunks.append(os.read(fd, 65536))
        except OSError:  # the other side is closed
            break
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def tty():
    """A pseudo-terminal: (the file a program writes to, the descriptor its screen is read from)."""
    main_fd, other_fd = pty.openpty()
    stream = os.fdopen(other_fd, "w", encoding="utf-8")
    yield stream, main_fd
    stream.close()
    os.close(main_fd)


# --- 1. Colours ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("environ, coloured", [
    ({}, False),  # a pipe or a file: no colour
    ({"FORCE_COLOR": "1"}, True),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins
    ({"FORCE_COLOR": "1", "NO_COLOR": ""}, True),  # an empty NO_COLOR is unset (no-color.org)
])
def test_off_a_terminal_verdicts_are_coloured_only_when_forced(environ, coloured):
    stream = io.StringIO()
    out = Terminal(stream, environ=environ)
    out.print("hw.py: FAIL, 1 of 2 comparisons failed; PASS; INCONCLUSIVE; PASSED stays plain")
    text = stream.getvalue()
    assert out.colour is coloured
    assert bool(ANSI.search(text)) is coloured
    assert ANSI.sub("", text) == "hw.py: FAIL, 1 of 2 comparisons failed; PASS; INCONCLUSIVE; PASSED stays plain\n"
    if coloured:  # red, green, yellow; a word that merely contains one is left alone
        assert "\x1b[31mFAIL\x1b[0m" in text and "\x1b[32mPASS\x1b[0m" in text and "\x1b[33mINCONCLUSIVE\x1b[0m" in text
        assert "PASSED" in text


@pytest.mark.parametrize("environ, coloured", [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False)])
def test_on_a_terminal_verdicts_are_coloured_unless_no_color_or_a_dumb_terminal(tty, environ, coloured):
    stream, screen = tty
    out = Terminal(stream, environ={"TERM": "xterm", **environ})
    out.print("layers.py: PASS")
    assert out.colour is coloured
    assert ("\x1b[32mPASS" in read_all(screen)) is coloured


def test_gradcheck_check_colours_only_when_forced_or_on_a_terminal():
    plain = run("check", str(BUGGY_HW0), "--quiet")
    forced = run("check", str(BUGGY_HW0), "--quiet", env={"FORCE_COLOR": "1"})
    refused = run("check", str(BUGGY_HW0), "--quiet", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert plain.returncode == forced.returncode == refused.returncode == ExitCode.DISAGREE
    assert not ANSI.search(plain.stdout) and not ANSI.search(refused.stdout)
    assert "\x1b[31mFAIL" in forced.stdout and "\x1b[32mPASS" in forced.stdout
    assert ANSI.sub("", forced.stdout) == plain.stdout == refused.stdout


def test_the_grids_verdict_column_is_coloured_when_forced():
    out = run(*TINY_GRID, env={"FORCE_COLOR": "1"})
    assert out.returncode == ExitCode.OK, out.stderr
    assert out.stdout.count("\x1b[32magree\x1b[0m") == 2
    assert "agree three ways" in out.stdout  # the summary's "agree" is prose, not a verdict


@pytest.mark.parametrize("forced", [False, True])
def test_checking_into_a_pipe_never_imports_rich(forced):
    code = ("import contextlib, io, sys\nfrom gradcheck.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    rc = main(['check', {str(CORPUS / 'nn_epoch_correct.py')!r}])\n"
            "print(rc, 'rich' in sys.modules)")
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=environ | ({"FORCE_COLOR": "1"} if forced else {}))
    assert out.stdout.split() == ["0", str(forced)], out.stderr  # rich comes in with colour, not before


# --- 2. Progress, rows streamed --------------------------------------------------------------------------------


def test_the_grid_prints_each_row_as_it_finishes_in_columns_fixed_up_front(monkeypatch):
    stream, printed_before = io.StringIO(), []
    real = witnesses.agree

    def agree(*args, **kwargs):
        printed_before.append(stream.getvalue().count("\n"))
        return real(*args, **kwargs)

    monkeypatch.setattr(witnesses, "agree", agree)
    monkeypatch.setattr(sys, "stdout", stream)
    assert main(["--depth", "1", "2", "--activation", "leaky_relu:0.1", "--bias", "no", "--reduction", "sum"]) == 0
    assert printed_before == [3, 4]  # title, header and rule before the first row; the first row before the second
    lines = stream.getvalue().splitlines()
    header, rows = lines[1], lines[3:5]
    assert len({len(rows[0].split()[0]), len(rows[1].split()[0])}) == 2  # architecture names of different lengths
    assert all(row.index(" agree ") + 1 == header.index("verdict") for row in rows)


def test_a_progress_bar_is_drawn_on_a_terminal_above_which_rows_are_printed(tty):
    stream, screen = tty
    out = Terminal(stream, environ={"TERM": "xterm"})
    with out.progress("architecture", 2) as advance:
        start = ANSI.sub("", read_all(screen))
        out.print("5-7-3 relu  agree")
        advance()
        later = ANSI.sub("", read_all(screen))
    assert "architecture 0/2" in start
    assert "5-7-3 relu  agree" in later and "architecture 1/2" in later
    assert read_all(screen).endswith("\x1b[2K")  # the bar is erased when done: it leaves nothing behind


def test_off_a_terminal_there_is_no_bar_and_quiet_drops_the_detail_lines():
    status, stream = io.StringIO(), io.StringIO()
    out = Terminal(stream, status=status, environ={"TERM": "xterm"}, quiet=True)
    with out.progress("submission", 3) as advance:
        out.print("[1/3] alice: 4 / 4", detail=True)
        out.print("summary in graded/summary.csv")
        advance()
    assert status.getvalue() == "" and stream.getvalue() == "summary in graded/summary.csv\n"


def test_the_grid_shows_its_bar_on_a_terminal_stderr_and_streams_plain_rows_to_the_pipe(tty):
    stream, screen = tty
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | {"TERM": "xterm"}
    grid = subprocess.Popen([sys.executable, "-m", "gradcheck", *TINY_GRID], stdout=subprocess.PIPE, stderr=stream,
                            text=True, env=environ)
    shown = []
    while grid.poll() is None:
        shown.append(read_all(screen))
        select.select([screen], [], [], 0.1)
    stdout = grid.stdout.read()
    shown.append(read_all(screen))
    assert grid.returncode == 0, stdout
    assert "architecture 1/2" in ANSI.sub("", "".join(shown))
    assert not ANSI.search(stdout) and len(re.findall(r"^3-4-2 \w+ +sum .* agree +\d+$", stdout, re.M)) == 2


# --- 3. --quiet and --version ----------------------------------------------------------------------------------


def test_check_quiet_prints_one_line_per_check_and_the_tally():
    out = run("check", str(BUGGY_HW0), "-q")
    assert out.returncode == ExitCode.DISAGREE
    assert out.stdout.splitlines() == ["simple_ml.py:nn_epoch: FAIL, 15 of 25 comparisons failed (SGD epoch, lr=0.1, batch=16, seed 0)",
                                       "simple_ml.py:softmax_regression_epoch: PASS, all 11 comparisons agree (SGD epoch, lr=0.1, batch=16, seed 0)",
                                       "simple_ml.py:softmax_loss: PASS, all 4 comparisons agree (loss function, seed 0)",
                                       "3 checks: 2 passed, 1 failed (seed 0)"]


def test_grid_quiet_prints_the_summary_line_and_one_line_per_failing_comparison(monkeypatch, capsys):
    args = ["--depth", "2", "--activation", "sigmoid", "--bias", "no", "--reduction", "mean", "--quiet"]
    assert main(args) == ExitCode.OK
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("1 of 1 architectures agree three ways (max relative disagreement: ")
    real = witnesses.closed_form

    def forgot_sigma_prime(problem):
        grads = real(problem)
        grads["W1"] = problem.X.T @ grads["G2"]  # Eq. 11 without ∘ σ'(XW₁)
        return grads

    monkeypatch.setattr(witnesses, "closed_form", forgot_sigma_prime)
    assert main(args) == ExitCode.DISAGREE
    first, *failing = capsys.readouterr().out.splitlines()
    assert first.startswith("0 of 1 architectures agree three ways")
    assert failing and all(re.match(r"FAIL W1 \(5, 7\) float64: closed form vs \S+.* \[5-7-3 sigmoid, m=8, mean\]$", f)
                           for f in failing), failing


def test_grade_quiet_prints_only_the_last_line(tmp_path):
    submissions, graded = tmp_path / "submissions", tmp_path / "graded"
    for name, source in (("alice", "two_layer_grads_correct_relu.py"), ("bob", "two_layer_grads_sign_flip.py")):
        (submissions / name).mkdir(parents=True)
        shutil.copy(CORPUS / source, submissions / name / "hw.py")
    spec = tmp_path / "spec.toml"
    spec.write_text('[assignment]\nname = "hw"\nseed = 7\ntime_limit = 60\nmemory_limit = 1024\n\n[[check]]\n'
                    'name = "gradients"\nfile = "hw.py"\nconvention = "two_layer_grads"\nweight = 4\n')
    loud = run("grade", str(submissions), "--spec", str(spec), "--batch", str(graded))
    assert loud.returncode == 0, loud.stderr
    assert "] alice: 4 / 4" in loud.stderr and "] bob: 0 / 4" in loud.stderr
    shutil.rmtree(graded)
    quiet = run("grade", str(submissions), "--spec", str(spec), "--batch", str(graded), "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.splitlines() == [f"summary in {graded / 'summary.csv'}; class dashboard in {graded / 'index.html'}"]
    assert "alice" not in quiet.stderr


@pytest.mark.parametrize("args", [["--version"], ["check", "--version"], ["grade", "--version"]])
def test_version_prints_the_installed_version_after_any_command(args):
    out = run(*args)
    assert out.returncode == 0 and out.stdout == f"gradcheck {version('gradcheck')}\n"


def test_quiet_and_verbose_cannot_be_given_together():
    out = run("check", str(BUGGY_HW0), "--quiet", "--verbose")
    assert out.returncode == ExitCode.USAGE and "not allowed with argument" in out.stderr


# --- 4. Usage, "did you mean" ----------------------------------------------------------------------------------


def test_the_usage_line_and_help_list_the_commands():
    out = run("--help")
    assert out.stdout.splitlines()[0] == f"usage: {cli.USAGE}"
    assert "gradcheck check FILE[:FUNCTION] [options]" in cli.USAGE and "gradcheck grade SUBMISSION_DIR --spec" in cli.USAGE
    assert "\ncommands:\n  gradcheck  " in out.stdout


@pytest.mark.parametrize("args, message", [
    (["chek", "f.py"], "gradcheck: error: unknown command 'chek'; did you mean 'check'?"),
    (["grad", "sub"], "gradcheck: error: unknown command 'grad'; did you mean 'grade'?"),
    (["frobnicate"], "gradcheck: error: unknown command 'frobnicate'; the commands are 'check' and 'grade'"),
    (["--sed", "3"], "gradcheck: error: unrecognized arguments: --sed 3; did you mean --seed?"),
    (["check", "f.py", "--sed", "3"], "gradcheck check: error: unrecognized arguments: --sed 3; did you mean --seed?"),
    (["check", "f.py", "--witnss=jax"], "unrecognized arguments: --witnss=jax; did you mean --witness?"),
    (["grade", "sub", "--spec", "s.toml", "--jbos", "2"], "gradcheck grade: error: unrecognized arguments: --jbos 2; "
                                                           "did you mean --jobs?"),
    (["--depht", "2", "--sed", "1"], "did you mean --depth for --depht, --seed for --sed?"),
])
def test_a_typo_exits_2_naming_the_nearest_command_or_option(args, message):
    out = run(*args)
    assert out.returncode == ExitCode.USAGE
    assert message in out.stderr and out.stdout == ""


def test_an_unknown_option_near_nothing_gets_argparses_message_alone():
    out = run("--zzzzzz")
    assert out.returncode == ExitCode.USAGE
    assert out.stderr.splitlines()[-1] == "gradcheck: error: unrecognized arguments: --zzzzzz"


# --- 5. Broken pipes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, lines", [
    # more than a pipe holds, so the reader is gone before the last write
    (["check", str(CORPUS / "nn_epoch_correct.py"), "--verbose", "--trials", "10"], 1),
    ([*TINY_GRID], 3),  # the reader is gone after the header, before any row is computed
])
def test_a_reader_that_stops_early_ends_the_command_quietly_with_141(args, lines):
    process = subprocess.Popen([sys.executable, "-m", "gradcheck", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    for _ in range(lines):
        assert process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=600) == ExitCode.CLOSED == 141
    assert stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"


def test_the_exit_status_of_a_closed_pipe_is_documented():
    for parser in (cli.build_parser(), cli.build_check_parser(), cli.build_grade_parser()):
        assert cli.CLOSED in " ".join(parser.format_help().split())


# --- 6. --report - ---------------------------------------------------------------------------------------------


def test_report_dash_writes_pure_json_to_stdout_and_the_text_to_stderr(tmp_path):
    out = run("check", str(BUGGY_HW0), "--report", "-", cwd=tmp_path)
    assert out.returncode == ExitCode.DISAGREE
    document = json.loads(out.stdout)
    assert [c["verdict"] for c in document["checks"]] == ["fail", "pass", "pass"]
    assert "simple_ml.py:nn_epoch: FAIL" in out.stderr and "3 checks: 2 passed, 1 failed" in out.stderr
    assert list(tmp_path.iterdir()) == []  # no file named "-"


# --- 7. Headlines name the file --------------------------------------------------------------------------------


def test_headlines_name_the_file_not_the_module_it_was_imported_as(tmp_path):
    path = tmp_path / "sub_09.py"
    shutil.copy(CORPUS / "modules_transposed.py", path)
    out = run("check", str(path), "--report", str(tmp_path / "r.json"))
    assert out.returncode == ExitCode.DISAGREE
    assert out.stdout.startswith("sub_09.py: FAIL") and "gradcheck_user" not in out.stdout
    (check,) = json.loads((tmp_path / "r.json").read_text())["checks"]
    assert (check["test"], check["target"]) == (str(path), "sub_09.py")


def test_a_check_of_one_function_is_named_file_colon_function_in_the_headline_and_the_report(tmp_path):
    path = tmp_path / "hw.py"
    shutil.copy(CORPUS / "two_layer_grads_correct_relu.py", path)
    whole = run("check", str(path), "--report", str(tmp_path / "r.json"))
    assert whole.returncode == 0, whole.stdout + whole.stderr
    assert whole.stdout.startswith("hw.py:two_layer_grads: PASS")
    (check,) = json.loads((tmp_path / "r.json").read_text())["checks"]
    assert (check["test"], check["target"]) == (f"{path}:two_layer_grads", "hw.py:two_layer_grads")
    one = run("check", f"{path}:two_layer_grads", "-q")
    assert one.stdout.startswith("hw.py:two_layer_grads: PASS")


# --- 8. Output folders -----------------------------------------------------------------------------------------


def test_an_output_in_a_missing_folder_or_onto_a_folder_is_refused_before_any_work(tmp_path):
    missing = run("check", "no_such_file.py", "--report", "out/x.json", cwd=tmp_path)
    assert missing.returncode == ExitCode.USAGE
    assert (f"gradcheck check: error: argument --report: cannot write out/x.json: the folder {tmp_path / 'out'} "
            "does not exist (create it first)") in missing.stderr
    assert "no_such_file" not in missing.stderr  # refused before the file is even looked for
    folder = run("check", "no_such_file.py", "--report", str(tmp_path), cwd=tmp_path)
    assert folder.returncode == ExitCode.USAGE and f"cannot write {tmp_path}: it is a folder; give a file name" in folder.stderr


def test_grade_refuses_a_batch_folder_that_is_a_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "graded").write_text("")
    spec = tmp_path / "spec.toml"
    spec.write_text('[assignment]\nname = "hw"\nseed = 7\n\n[[check]]\nname = "g"\nfile = "hw.py"\n'
                    'convention = "two_layer_grads"\nweight = 1\n')
    out = run("grade", str(tmp_path / "sub"), "--spec", str(spec), "--batch", str(tmp_path / "graded"))
    assert out.returncode == ExitCode.USAGE
    assert f"cannot write {tmp_path / 'graded'}: it is a file; give a folder" in out.stderr


# --- 9. A shorter failing report -------------------------------------------------------------------------------


def test_a_plain_report_lists_only_what_did_not_pass_and_counts_the_rest():
    right = [compare(np.ones(3), np.ones(3), tensor=f"b{i}", problem="p", seed=0) for i in range(3)]
    wrong = compare(2 * np.ones(3), np.ones(3), tensor="W1", problem="p", seed=0)
    result = CheckResult("hw.py", "test", (right[0], wrong, *right[1:]), 0)
    text = result.render()
    assert text.split("\n\n") == ["\n".join([result.headline(), f"  {summary(wrong)} [p]",
                                             "  + 3 other comparisons agree"]), render(wrong)]
    verbose = result.render(verbose=True)
    assert all(f"  {summary(c)} [p]" in verbose for c in right) and "other comparison" not in verbose
    assert CheckResult("hw.py", "test", (wrong, right[0]), 0).render().splitlines()[2] == "  + 1 other comparison agrees"
    assert CheckResult("hw.py", "test", tuple(right), 0).render() == result.headline().replace(
        "FAIL, 1 of 4 comparisons failed", "PASS, all 3 comparisons agree")  # all agree: the headline says it


def test_a_failing_check_keeps_everything_needed_to_fix_it_in_fewer_lines():
    target = f"{CORPUS / 'two_layer_grads_missing_sigma_prime.py'}:two_layer_grads"
    plain = run("check", target, "--activation", "sigmoid").stdout
    verbose = run("check", target, "--activation", "sigmoid", "--verbose").stdout
    assert not re.search(r"^  PASS ", plain, re.M) and re.search(r"^  PASS ", verbose, re.M)
    assert re.search(r"^  \+ \d+ other comparisons agree$", plain, re.M)
    for needed in ("Eq. 11: ∇W₁ = Xᵀ ((S − I_y) W₂ᵀ ∘ σ'(XW₁))", "  problem: non-square (", ", seed 0\n",
                   "  worst entries:", "  probable cause: σ' is missing"):
        assert needed in plain
    assert len(plain.splitlines()) < len(verbose.splitlines())
