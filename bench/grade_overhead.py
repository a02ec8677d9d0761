"""What grading one submission costs, and what the sandbox adds to it.

Grades the hw0 example (three checks: softmax_loss, softmax_regression_epoch,
nn_epoch) with ``gradcheck grade`` once per sandbox layer available here, and
runs the same checks in-process without any sandbox, side by side. Prints wall
time (median of --repeat runs) and the grader's peak resident memory, with
ratios to the unsandboxed run. (A sandboxed submission adds one Python process
with numpy, about 40 MiB.)

    python bench/grade_overhead.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
SPEC = REPO / "examples" / "gradescope" / "hw0.toml"
SUBMISSION = REPO / "examples" / "dlsys_hw0" / "correct"

IN_PROCESS = """
import resource, sys, time
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
import simple_ml
from gradcheck.checks.conventions import check_module
results = check_module(simple_ml, ("softmax_loss", "softmax_regression_epoch", "nn_epoch"), seed=1234)
assert all(r.passed for r in results)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_in_process() -> tuple[float, float, float, str]:
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, str(SUBMISSION)], capture_output=True, text=True, check=True)
    seconds, rss = out.stdout.split()
    return float(seconds), int(rss) / 1024, 0.0, ""


def run_graded(layer: str) -> tuple[float, float, float, str]:
    with tempfile.TemporaryDirectory() as folder:
        spec = pathlib.Path(folder, SPEC.name)
        spec.write_text(SPEC.read_text())
        pathlib.Path(folder, "secret_seed").write_text("1234\n")
        script = (
            "import os, resource, subprocess, sys, time\n"
            "start = time.perf_counter()\n"
            "from gradcheck.cli import main\n"
            f"code = main(['grade', {str(SUBMISSION)!r}, '--spec', {str(spec)!r}, '--gradescope', {folder + '/r.json'!r}])\n"
            "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
            " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        )
        env = {**os.environ, "GRADCHECK_SANDBOX": layer}
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        seconds, parent, child = out.stderr.strip().splitlines()[-1].split()
        results = json.loads(pathlib.Path(folder, "r.json").read_text())
        full = results["score"] == sum(t["max_score"] for t in results["tests"])
        note = "" if full else "did not grade: " + results["tests"][0]["output"].splitlines()[-1][:70]
        return float(seconds), int(parent) / 1024, int(child) / 1024, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from gradcheck.grader.sandbox import LAYERS, UNSAFE, _works
    from gradcheck.report import table

    layers = [layer for layer in LAYERS if layer != UNSAFE and not _works(layer)]
    runs = {"no sandbox (checks in-process)": run_in_process}
    for layer in layers:
        runs[f"gradcheck grade, {layer}"] = lambda layer=layer: run_graded(layer)
    rows, base = [], None
    for name, run in runs.items():
        try:
            samples = [run() for _ in range(args.repeat)]
        except subprocess.CalledProcessError as exc:
            rows.append([name, "-", "-", "-", f"failed: {exc.stderr.strip().splitlines()[-1][:60]}"])
            continue
        seconds = statistics.median(s[0] for s in samples)
        base = base or seconds
        rows.append([name, f"{seconds:.2f}", f"{seconds / base:.2f}x", f"{max(s[1] for s in samples):.0f}", samples[0][3]])
    print(f"grading examples/dlsys_hw0/correct with {SPEC.name} (3 checks), median of {args.repeat}; "
          f"peak RSS in MiB; the machine is shared, so read the ratios")
    print(table(["run", "wall s", "vs in-process", "grader peak RSS", "note"], rows,
                right=[False, True, True, True, False]))


if __name__ == "__main__":
    main()
