"""The ``gradcheck`` command: show that the three witnesses agree on the reference MLP."""

from __future__ import annotations

import argparse
import enum
import sys
import time
from typing import Sequence

from reference_mlp import activations
from reference_mlp.mlp import Architecture
from reference_mlp.validation import InvalidArgument

DEFAULT_WIDTHS = (5, 7, 6, 4)  # n₁ and the hidden widths; all different so a transpose cannot hide
DEFAULT_CLASSES = 3

EPILOG = """\
examples:
  gradcheck                                  every architecture of the default grid
  gradcheck --depth 2 --activation tanh      two-layer tanh networks only
  gradcheck --widths 784,32,10 --batch 16    one architecture, with and without bias
  gradcheck --fd richardson --seed 7         ordinary differences, another draw

exit status: 0 all witnesses agree, 1 some pair disagrees, 2 usage error.
"""


class ExitCode(enum.IntEnum):
    """What ``gradcheck`` returns to the shell."""

    OK = 0
    DISAGREE = 1
    USAGE = 2


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"widths are comma-separated positive integers like 5,7,3; got {text!r}") from None
    if len(widths) < 2 or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"widths need at least an input and an output size, all ≥ 1; got {text!r}")
    return widths


def _activation(text: str) -> str:
    try:
        return activations.get(text).label
    except InvalidArgument as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _nonnegative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0; got {value}")
    return value


def _positive(text: str) -> int:
    value = _nonnegative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number ≥ 1; got 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gradcheck`` (also used to document it)."""
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description=(
            "Verify the bundled reference MLP three ways: the seed's closed-form backprop "
            "(Eqs. 14, 15), JAX autodiff in float64 and finite differences must agree on every "
            "gradient ∇Wᵢ, ∇bᵢ and Gᵢ. Prints one row per architecture."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--depth", type=_positive, nargs="+", metavar="L", default=[1, 2, 3, 4],
                        help="numbers of layers L to try (default: 1 2 3 4)")
    parser.add_argument("--widths", type=_widths, metavar="N1,...,K",
                        help="one architecture's widths n₁,…,n_{L+1}; overrides --depth")
    parser.add_argument("--activation", type=_activation, nargs="+", metavar="NAME",
                        help=f"hidden activations to try (default: all of {', '.join(activations.NAMES)}; "
                             "leaky_relu takes a slope as leaky_relu:0.1)")
    parser.add_argument("--bias", choices=("yes", "no", "both"), default="both", help="layers with bias (default: both)")
    parser.add_argument("--reduction", choices=("mean", "sum", "both"), default="both",
                        help="batch reduction of the loss: mean (courses) or sum (the seed) (default: both)")
    parser.add_argument("--fd", choices=("complex", "richardson", "central"), default="complex",
                        help="finite-difference method of the third witness (default: complex, exact to rounding "
                             "since the reference accepts complex input; richardson and central are ordinary "
                             "differences whose kink-crossing entries are excluded and counted)")
    parser.add_argument("--batch", type=_positive, default=8, metavar="M", help="examples per problem (default: 8)")
    parser.add_argument("--seed", type=_nonnegative, default=0, help="seed of inputs, labels and weights (default: 0)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every comparison, not only failures")
    return parser


def grid(args: argparse.Namespace) -> list[tuple[Architecture, str]]:
    """The (architecture, reduction) pairs the options select, in table order."""
    hidden = args.activation or list(activations.NAMES)
    biases = {"yes": [True], "no": [False], "both": [False, True]}[args.bias]
    reductions = {"mean": ["mean"], "sum": ["sum"], "both": ["mean", "sum"]}[args.reduction]
    if args.widths:
        shapes = [args.widths]
    else:
        shapes = [DEFAULT_WIDTHS[:depth] + (DEFAULT_CLASSES,) for depth in args.depth]
    rows = []
    for widths in shapes:
        for act in hidden if len(widths) > 2 else ["identity"]:
            for bias in biases:
                for reduction in reductions:
                    rows.append((Architecture.build(widths, hidden=act, bias=bias), reduction))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gradcheck`` with ``argv`` (default: the command line) and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.widths is None and max(args.depth) > len(DEFAULT_WIDTHS):
        parser.error(f"--depth goes up to {len(DEFAULT_WIDTHS)} on the default widths; give --widths for deeper networks")

    from gradcheck import report, witnesses  # JAX loads only once there is work to do

    fd = f"FD ({args.fd})"
    header = ["architecture", "reduction", "params", f"closed~JAX", f"closed~{fd}", f"JAX~{fd}", "kinks excluded", "verdict", "ms"]
    rows, failures, worst = [], [], {pair: 0.0 for pair in witnesses.PAIRS}
    started = time.perf_counter()
    print(f"gradcheck: three witnesses on the reference MLP, float64, m={args.batch}, seed {args.seed}", flush=True)
    for arch, reduction in grid(args):
        problem = witnesses.make_problem(arch, m=args.batch, reduction=reduction, seed=args.seed)
        result = witnesses.agree(problem, fd_method=args.fd)
        errors = [result.max_rel_err(*pair) for pair in witnesses.PAIRS]
        for pair, err in zip(witnesses.PAIRS, errors):
            worst[pair] = max(worst[pair], err)
        rows.append([arch.describe(), reduction, str(arch.n_params), *(f"{e:.1e}" for e in errors),
                     str(result.not_checkable), "agree" if result.passed else "DISAGREE", f"{1000 * result.seconds:.0f}"])
        failures.extend(c for c in result.comparisons if args.verbose or not c.passed)
    print(report.table(header, rows, right=[False, False, True, True, True, True, True, False, True]))
    agreeing = sum(r[7] == "agree" for r in rows)
    print(f"\n{agreeing} of {len(rows)} architectures agree three ways "
          f"(max relative disagreement: " + ", ".join(f"{a}~{b} {worst[(a, b)]:.1e}" for a, b in witnesses.PAIRS)
          + f"; {time.perf_counter() - started:.1f} s).")
    if failures:
        print("\n" + report.render_all(failures))
    return ExitCode.OK if agreeing == len(rows) else ExitCode.DISAGREE


if __name__ == "__main__":
    sys.exit(main())
