"""How long `gradcheck check` takes in a cold process, next to `python -c "import numpy"`.

Each round starts fresh Python processes, alternating so that a busy machine slows both alike:
the numpy baseline, then `gradcheck check FILE` under each witness. Reports the median wall
time of each and its ratio to the baseline (medians: the machines are shared and noisy).
The processes may write bytecode (PYTHONDONTWRITEBYTECODE is dropped), as an installed
gradcheck has: otherwise every start compiles gradcheck's sources anew.

    python bench/instant.py [FILE] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "examples" / "dlsys_hw0" / "correct" / "simple_ml.py"
WITNESSES = ("auto", "closed-form", "jax")


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return elapsed


def measure(target: Path, rounds: int) -> dict[str, list[float]]:
    """Wall times of every command, one per round each."""
    commands = {"python -c 'import numpy'": [sys.executable, "-c", "import numpy"]}
    commands |= {f"gradcheck check --witness {w}": [sys.executable, "-m", "gradcheck", "check", str(target),
                                                    "--witness", w] for w in WITNESSES}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # one warm-up each: the first start reads every file from disk
        _wall(argv)
    for k in range(rounds):
        for name, argv in commands.items():
            times[name].append(_wall(argv))
        print(f"round {k + 1}/{rounds} done", file=sys.stderr, flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    times = measure(args.file, args.rounds)
    base = statistics.median(next(iter(times.values())))
    print(f"cold process, {args.file.relative_to(ROOT) if args.file.is_relative_to(ROOT) else args.file}, "
          f"median of {args.rounds} rounds")
    print(f"{'command':<36} {'median s':>9} {'× numpy':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<36} {median:>9.3f} {median / base:>8.1f}")


if __name__ == "__main__":
    main()
