"""The ``gradcheck`` command.

``gradcheck`` alone shows that the three witnesses agree on the reference MLP;
``gradcheck check FILE`` checks a user's own backprop.
"""

from __future__ import annotations

import argparse
import enum
import sys
import time
from typing import Sequence

from gradcheck import settings as gc_settings
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
  gradcheck check hw.py                      check your own backprop (see gradcheck check --help)
  gradcheck grade SUB --spec hw.toml         grade an untrusted submission (see gradcheck grade --help)

exit status: 0 all witnesses agree, 1 some pair disagrees, 2 usage error, 3 none disagrees but
finite differences could not judge some tensor (every entry's step crosses a kink).
"""


class ExitCode(enum.IntEnum):
    """What ``gradcheck`` returns to the shell."""

    OK = 0
    DISAGREE = 1
    USAGE = 2
    INCONCLUSIVE = 3  # nothing failed, but some check could not judge enough to pass


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


CHECK_EPILOG = """\
conventions (detected from the names your file defines, or named with --convention):
  two_layer_grads           two_layer_grads(X, y, W1, W2) -> (dW1, dW2)
  mlp_grads                 mlp_grads(X, y, Ws, activation="relu") -> [dW1, ..., dWL]
  nn_epoch                  nn_epoch(X, y, W1, W2, lr, batch), updating W1, W2 in place
  softmax_regression_epoch  softmax_regression_epoch(X, y, theta, lr, batch), in place
  softmax_loss              softmax_loss(Z, y) -> mean loss
  layers                    CS231n layers.py, layer_utils.py, rnn_layers.py: every *_forward/*_backward
                            pair (affine, relu, batchnorm, layernorm, dropout, conv, max_pool,
                            spatial norms, sandwiches, rnn, lstm, embeddings), svm_loss/softmax_loss(x, y)
  modules                   classes Linear(W), ReLU, Sigmoid, Tanh, SoftmaxCrossEntropy
  linear_classifiers        svm_loss_naive/_vectorized, softmax_loss_naive/_vectorized
                            (W, X, y, reg) -> (loss, dW)   (CS231n assignment 1)
  two_layer_net             class TwoLayerNet(D, H, C).loss(X, y=None, reg) -> scores, or (loss, grads)
  fc_net                    class FullyConnectedNet(hidden_dims, ...).loss(X, y) -> (loss, grads), with
                            normalization and dropout   (CS231n assignment 2)
  cnn                       class ThreeLayerConvNet(input_dim, ...).loss(X, y) -> (loss, grads)
  needle                    a DLSys hw1 checkout (give its folder): every op's compute and gradient,
                            find_topo_sort and compute_gradient_of_variables

examples:
  gradcheck check hw0.py                               every convention hw0.py defines
  gradcheck check hw.py:my_grads --convention two_layer_grads --activation sigmoid
  gradcheck check layers.py --seed 3 --trials 5 --verbose
  gradcheck check hw0.py --witness closed-form --report checks.json

exit status: 0 every check passes, 1 something is wrong (a gradient, a forward, or a change your code
makes to the arrays it is given), 2 usage or import error, 3 nothing is wrong but some check could
not judge enough (re-run with another --seed, or do what the report advises).
Public functions and classes the file defines that no check covers are listed by name
("not checked: …", stubs marked "not implemented"): the exit status says nothing about them.
"""


def build_check_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gradcheck check``."""
    from gradcheck.checks.conventions import NAMES

    parser = argparse.ArgumentParser(
        prog="gradcheck check",
        description="Check your own backprop against the equations (Eqs. 10, 11, 14, 15) and JAX, and name the bug.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="FILE[:FUNCTION]",
                        help="a .py file or module, optionally with the function to check after a colon")
    parser.add_argument("--convention", choices=NAMES, action="append",
                        help="the calling convention (repeatable); default: detected from the names defined")
    parser.add_argument("--activation", type=_activation, action="append", metavar="NAME",
                        help="an activation your code supports (repeatable): the hidden σ of code that takes none "
                             "as an argument (default: relu), and those mlp_grads is checked for (default: relu, "
                             "sigmoid and tanh, so one it rejects fails)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate for epoch functions (default: 0.1)")
    parser.add_argument("--batch", type=_positive, default=16, help="minibatch size for epoch functions (default: 16)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="type of the inputs fed to gradient and epoch functions; float32 code (as in DLSys hw0) "
                             "is judged with the float32 tolerance (default: float64)")
    for setting in gc_settings.SETTINGS:  # the same knobs as the pytest plugin's --gradcheck-NAME
        if setting.flag:
            parser.add_argument(f"--{setting.option}", dest=setting.name, action="store_true", help=setting.help)
            continue
        parser.add_argument(f"--{setting.option}", dest=setting.name, metavar=setting.metavar, default=setting.default,
                            type=lambda value, name=setting.name: _setting(name, value),
                            help=f"{setting.help} (default: {setting.default})")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every comparison in full")
    return parser


def _setting(name: str, value: str) -> object:
    try:
        return gc_settings.parse(name, value, f"--{name}")
    except InvalidArgument as exc:  # argparse names the option itself
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None


def check_main(argv: Sequence[str]) -> int:
    """``gradcheck check``: load the user's code, run the checks of its conventions, print the reports."""
    import types

    from gradcheck import adapters
    from gradcheck.checks.common import judged_by
    from gradcheck.checks.conventions import CONVENTIONS, check_module
    from gradcheck.compare import tolerances
    from gradcheck.report import write_report

    parser = build_check_parser()
    args = parser.parse_args(argv)
    try:
        module, function = adapters.load(args.target)
    except adapters.LoadError as exc:
        print(f"gradcheck check: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    conventions = tuple(args.convention or ())
    if function:
        if not conventions and function in CONVENTIONS:
            conventions = (function,)
        if not conventions or any(c in ("layers", "modules") for c in conventions):
            parser.error(f"say which convention {function} follows with --convention "
                         f"(two_layer_grads, mlp_grads, nn_epoch, softmax_regression_epoch or softmax_loss)")
        module = types.SimpleNamespace(__name__=function, **{c: getattr(module, function) for c in conventions})
    from gradcheck import coverage
    from gradcheck.checks.conventions import detect

    targets = [(args.target, module, conventions or None)]
    try:  # a hw1 checkout: its apps/simple_ml.py too (hw0's functions on its own needle), once they are written
        for path in [] if function or conventions else _apps(args.target):
            code = adapters.load(path)[0]
            targets.append((path, code, tuple(c for c in detect(code) if not coverage.is_stub(getattr(code, c)))))
    except adapters.LoadError as exc:
        print(f"gradcheck check: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    checked = []
    try:
        with tolerances(rtol=args.rtol), judged_by(args.witness):
            for target, code, chosen in targets:
                for trial in range(args.trials if chosen != () else 0):
                    checked += [(target, r) for r in check_module(
                        code, chosen, activation=args.activation, seed=args.seed + trial, lr=args.lr,
                        batch=args.batch, dtype=args.dtype, require_stability=args.require_stability)]
    except InvalidArgument as exc:
        print(f"gradcheck check: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    results = [r for _, r in checked]
    for result in results:
        print(result.render(verbose=args.verbose), end="\n\n")
    if not function:  # FILE:FUNCTION asks for that function alone
        for target, code, chosen in targets:
            for line in coverage.of(code, conventions or (detect(code) if chosen is None else chosen)).lines():
                print(line if len(targets) == 1 else f"{target}: {line}")
    print(tally(results, args.seed))
    if args.report:
        settings = {s.name: getattr(args, s.name) for s in gc_settings.SETTINGS}
        write_report(args.report, checked, settings)
        print(f"report written to {args.report}")
    return exit_code(results)


def _apps(target: str) -> list[str]:
    """``apps/simple_ml.py`` of the DLSys hw1 checkout a folder target is (or holds the package of), if it has one."""
    import os

    from gradcheck.grader import importing

    package = importing.needle_package(target) if os.path.isdir(target) else None
    if package is None:
        return []
    root = os.path.dirname(os.path.dirname(package))  # …/needle/__init__.py: the folder holding needle/
    root = os.path.dirname(root) if os.path.basename(root) == "python" else root
    path = os.path.join(root, "apps", "simple_ml.py")
    return [os.path.relpath(path) if not os.path.isabs(target) else path] if os.path.isfile(path) else []


def tally(results: Sequence, seed: int) -> str:
    """``3 checks: 2 passed, 1 failed (seed 0)``, naming the inconclusive ones when there are any."""
    failed = sum(r.verdict.value == "fail" for r in results)
    undecided = [r for r in results if r.verdict.value == "inconclusive"]
    line = f"{len(results)} checks: {len(results) - failed - len(undecided)} passed, {failed} failed"
    if undecided:
        line += f", {len(undecided)} inconclusive ({', '.join(dict.fromkeys(r.target for r in undecided))})"
    return line + f" (seed {seed})"


def exit_code(results: Sequence) -> ExitCode:
    """1 if any check failed, else 3 if any could not judge enough, else 0."""
    verdicts = {r.verdict.value for r in results}
    if "fail" in verdicts:
        return ExitCode.DISAGREE
    return ExitCode.INCONCLUSIVE if "inconclusive" in verdicts or not results else ExitCode.OK


GRADE_EPILOG = """\
The submission is copied (its own regular files only: links, devices and FIFOs
are refused) and runs in a sandboxed child process as an unprivileged uid of its
own: bubblewrap, or util-linux unshare when the grader runs as root without
bubblewrap. Every verdict is computed here. Its time limit counts its own CPU
time. Results are written atomically after its processes are gone, and always,
even when every check crashes or grading itself fails.

examples:
  gradcheck grade /autograder/submission --spec /autograder/source/spec.toml \\
                  --gradescope /autograder/results/results.json
  gradcheck grade submissions/alice --spec hw0.toml --junit alice.xml --json alice.json
  gradcheck grade submissions/ --spec hw0.toml --batch graded/ --jobs 2

exit status: 0 graded; 2 the spec or the arguments are unusable, or grading
failed (the results say which checks, and a rerun of --batch grades them again).
"""


def build_grade_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gradcheck grade``."""
    parser = argparse.ArgumentParser(
        prog="gradcheck grade", description="Grade one untrusted submission against an assignment spec.",
        epilog=GRADE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", metavar="SUBMISSION_DIR", help="the folder holding the student's files")
    parser.add_argument("--spec", required=True, metavar="SPEC.toml", help="the assignment spec (kept from the student)")
    for name in ("gradescope", "prairielearn", "junit", "json"):
        parser.add_argument(f"--{name}", metavar="PATH", help=f"write {name} results here (at least one output, "
                                                               "or --batch, is required)")
    parser.add_argument("--batch", metavar="OUT_DIR",
                        help="SUBMISSION_DIR holds one folder per student: grade them all in parallel into "
                             "OUT_DIR/<name>/results.json and OUT_DIR/summary.csv, skipping those already graded")
    parser.add_argument("--jobs", type=_positive, default=2, help="parallel graders with --batch (default: 2)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="when no sandbox layer works, run the submission as a plain child process with the "
                             "grader's privileges (only for code you trust; every results file says so)")
    return parser


def _grade_arguments(args: argparse.Namespace, outputs: dict[str, str]) -> str | None:
    """What is wrong with the paths given to ``gradcheck grade``, if anything."""
    from pathlib import Path

    submission = Path(args.submission)
    if not submission.exists():
        return f"the submission folder {submission} does not exist"
    if not submission.is_dir():
        return (f"{submission} is a file; SUBMISSION_DIR is the folder that holds the student's files "
                f"(e.g. {submission.parent})")
    if not outputs and not args.batch:
        return "say where the results go: --gradescope PATH, --prairielearn PATH, --junit PATH, --json PATH or --batch OUT_DIR"
    for path in [*outputs.values(), *([args.batch] if args.batch else [])]:
        parent = Path(path).absolute().parent
        if not parent.is_dir():
            return f"cannot write {path}: the folder {parent} does not exist (create it first)"
        if Path(path).is_dir() and path != args.batch:
            return f"cannot write {path}: it is a folder; give a file name"
    return None


def grade_main(argv: Sequence[str]) -> int:
    """``gradcheck grade``: grade a submission, write every requested results file."""
    from pathlib import Path

    from gradcheck.grader import formats, spec
    from gradcheck.grader.grade import grade_supervised

    args = build_grade_parser().parse_args(argv)
    outputs = {name: getattr(args, name) for name in formats.FORMATS if getattr(args, name)}
    try:
        assignment = spec.load(args.spec)
    except InvalidArgument as exc:
        print(f"gradcheck grade: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    problem = _grade_arguments(args, outputs)
    if problem:
        print(f"gradcheck grade: error: {problem}", file=sys.stderr)
        return ExitCode.USAGE
    if args.batch:
        from gradcheck.grader.batch import grade_all

        batch = grade_all(Path(args.submission), assignment, Path(args.batch), jobs=args.jobs,
                          allow_unsafe=args.unsafe_no_sandbox)
        print(f"summary in {batch.summary}")
        if batch.failed:
            print(f"gradcheck grade: grading failed for {len(batch.failed)} submission(s) ({', '.join(batch.failed)}); "
                  "their results say why; run the same command again to grade them again", file=sys.stderr)
            return ExitCode.USAGE
        return ExitCode.OK
    hidden = [Path(p).resolve().parent for p in outputs.values()]
    # Graded in a separate process: a grader that runs out of memory still leaves results behind.
    result = grade_supervised(Path(args.submission), assignment, hide=hidden, allow_unsafe=args.unsafe_no_sandbox)
    for name, path in outputs.items():
        formats.write_atomically(Path(path), formats.FORMATS[name](result))
    print(f"{result.assignment}: {result.score:g} / {result.max_score:g} points ({result.layer}); "
          f"results in {', '.join(outputs.values())}")
    if result.grading_failed:
        reason = next(g.grader_error for g in result.checks if g.grader_error)
        print(f"gradcheck grade: grading failed for {', '.join(result.grading_failed)}: {reason}", file=sys.stderr)
        return ExitCode.USAGE
    return ExitCode.OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gradcheck`` with ``argv`` (default: the command line) and return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["check"]:
        return check_main(argv[1:])
    if argv[:1] == ["grade"]:
        return grade_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.widths is None and max(args.depth) > len(DEFAULT_WIDTHS):
        parser.error(f"--depth goes up to {len(DEFAULT_WIDTHS)} on the default widths; give --widths for deeper networks")

    from gradcheck import report, witnesses  # JAX loads only once there is work to do

    fd = f"FD ({args.fd})"
    header = ["architecture", "reduction", "params", "closed~JAX", f"closed~{fd}", f"JAX~{fd}", "kinks excluded", "verdict", "ms"]
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
                     str(result.not_checkable), VERDICT_WORDS[result.verdict.value], f"{1000 * result.seconds:.0f}"])
        failures.extend(c for c in result.comparisons if args.verbose or not c.passed)
    print(report.table(header, rows, right=[False, False, True, True, True, True, True, False, True]))
    agreeing = sum(r[7] == "agree" for r in rows)
    undecided = sum(r[7] == VERDICT_WORDS["inconclusive"] for r in rows)
    print(f"\n{agreeing} of {len(rows)} architectures agree three ways "
          f"(max relative disagreement: " + ", ".join(f"{a}~{b} {worst[(a, b)]:.1e}" for a, b in witnesses.PAIRS)
          + f"; {time.perf_counter() - started:.1f} s).")
    if failures:
        print("\n" + report.render_all(failures))
    if agreeing + undecided < len(rows):
        return ExitCode.DISAGREE
    return ExitCode.INCONCLUSIVE if undecided else ExitCode.OK


VERDICT_WORDS = {"pass": "agree", "fail": "DISAGREE", "inconclusive": "inconclusive"}


if __name__ == "__main__":
    sys.exit(main())
