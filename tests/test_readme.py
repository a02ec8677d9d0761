"""The README's quickstart runs and prints exactly what the README shows."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
ROUNDING = re.compile(r"\d\.\d+e-(1[0-9]|[2-9][0-9])")  # values at rounding level vary with the BLAS


def mask_rounding(text: str) -> str:
    return ROUNDING.sub("<rounding>", text)


def test_the_python_example_prints_what_the_readme_says():
    text = README.read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    said = re.search(r"prints `(.*?)`", text).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {})
    assert printed.getvalue().strip() == said


def test_the_check_report_shown_is_what_gradcheck_check_prints():
    import subprocess
    import sys

    text = README.read_text(encoding="utf-8")
    command = re.search(r"```\n(gradcheck check .*?)\n```", text).group(1)
    shown = re.search(r"summaries of the other cases trimmed\):\n\n```\n(.*?)```", text, re.S).group(1)
    out = subprocess.run([sys.executable, "-m", "gradcheck", *command.split()[1:]], capture_output=True, text=True,
                         cwd=README.parent)
    assert out.returncode == 1
    kept = [line for line in out.stdout.splitlines()
            if not (line.startswith("  PASS") or (line.startswith("  FAIL") and "non-square" not in line))]
    assert mask_rounding("\n".join(kept) + "\n") == mask_rounding(shown)


def test_the_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    text = README.read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(.*?)\n```", text, re.S)
    assert len(commands) == 2
    assert commands[0].endswith("&& gradcheck") and commands[1].endswith("&& pytest")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install --quiet -e ".[test]"' in ci and ci.rstrip().endswith("pytest")


def test_the_table_excerpt_is_what_the_command_prints():
    import subprocess
    import sys

    text = README.read_text(encoding="utf-8")
    command = "gradcheck --depth 2 --activation sigmoid relu"
    shown = re.search(re.escape(f"`{command}`:") + r"\n\n```\n(.*?)```", text, re.S).group(1)
    out = subprocess.run([sys.executable, "-m", "gradcheck", *command.split()[1:]], capture_output=True, text=True)
    def stable(table: str) -> list[str]:
        # Drop the timings, the column widths they set and the rounding-level numbers: cells, not spacing.
        rows = []
        for line in table.splitlines():
            line = re.sub(r"\s+\d+$|; \d+\.\d s", "", line)
            rows.append(" ".join("-" if set(cell) == {"-"} else cell for cell in mask_rounding(line).split()))
        return rows
    assert stable(out.stdout) == stable(shown)


def test_the_benchmark_rows_quoted_are_rows_of_bench_results():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Against other checkers", 1)[1].split("\n## ", 1)[0]
    quoted = [line for block in re.findall(r"```\n(.*?)```", section, re.S) for line in block.splitlines() if line.strip()]
    results = (README.parent / "bench" / "RESULTS.md").read_text(encoding="utf-8").splitlines()
    assert quoted, "the section quotes no rows"
    missing = [line for line in quoted if line not in results]
    assert not missing, f"rows not in bench/RESULTS.md (rerun python bench/peers.py and copy them): {missing}"


def test_the_verify_example_prints_what_the_readme_says():
    text = README.read_text(encoding="utf-8")
    code, said = re.search(r"```python\n(import numpy as np\nfrom gradcheck import make_problem, verify\n.*?)```\n\nprints `(.*?)`",
                           text, re.S).groups()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {})
    assert printed.getvalue().strip() == said


def test_the_black_box_example_prints_what_the_readme_says_and_spends_what_it_says():
    text = README.read_text(encoding="utf-8")
    code, said, detect, locate = re.search(
        r"```python\n(import numpy as np\nfrom gradcheck.checks import check_gradient\n.*?)```\n\nprints `(.*?)`:"
        r".*?found and named in (\d+) \+ (\d+)\s+evaluations", text, re.S).groups()
    printed, namespace = io.StringIO(), {}
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), namespace)
    assert printed.getvalue().strip() == said
    assert f"located by group testing in {locate} evaluations" in said
    assert f"{int(detect) + int(locate)} evaluations of it" in namespace["result"].convention


def test_the_count_of_hostile_submissions_is_the_count_in_tests_hostile():
    hostile = [p for p in (README.parent / "tests" / "hostile").glob("*.py") if not p.name.startswith("_")]
    assert f"`tests/hostile/` holds {len(hostile)} submissions" in " ".join(README.read_text().split())


def test_the_cs231n_command_gives_a_verdict_to_every_function_of_the_file():
    import subprocess
    import sys

    text = README.read_text(encoding="utf-8")
    command = re.search(r"```\n(gradcheck check tests/cs231n_a2/layers.py)\n```", text).group(1)
    out = subprocess.run([sys.executable, "-m", "gradcheck", *command.split()[1:]], capture_output=True, text=True,
                         cwd=README.parent)
    assert out.returncode == 0, out.stdout
    defined = re.findall(r"^def ([a-z_]+)\(", (README.parent / "tests" / "cs231n_a2" / "layers.py").read_text(), re.M)
    verdicts = re.findall(r"^    PASS +([a-z_]+)$", out.stdout, re.M)
    assert set(defined) <= set(verdicts) and "not checked" not in out.stdout


def _witness_rows(table: str) -> list[tuple[str, str, str]]:
    """(witness, evaluations, max rel err) of each row of bench/witnesses.py's table; the cost column is a timing."""
    lines = table.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("-----")) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows.append((cells[0], cells[1], mask_rounding(cells[-1])))
    return rows


def test_the_witness_table_is_what_bench_witnesses_prints_but_for_its_timings():
    import subprocess
    import sys

    text = README.read_text(encoding="utf-8")
    shown = re.search(r"`python bench/witnesses.py` measures.*?```\n(.*?)```", text, re.S).group(1)
    out = subprocess.run([sys.executable, "bench/witnesses.py"], capture_output=True, text=True, cwd=README.parent,
                         check=True)
    assert shown.splitlines()[0] == out.stdout.splitlines()[0]
    assert _witness_rows(shown) == _witness_rows(out.stdout) and len(_witness_rows(shown)) == 8
