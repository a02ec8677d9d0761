"""The ``gradcheck`` command.

``gradcheck`` alone shows that the three witnesses agree on the reference MLP;
``gradcheck check FILE`` checks a user's own backprop.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import os
import shlex
import sys
import time
from typing import Any, Callable, Sequence

from gradcheck import settings as gc_settings
from gradcheck.terminal import Terminal, columns
from reference_mlp import activations
from reference_mlp.mlp import Architecture
from reference_mlp.validation import InvalidArgument

DEFAULT_WIDTHS = (5, 7, 6, 4)  # n₁ and the hidden widths; all different so a transpose cannot hide
DEFAULT_CLASSES = 3
COMMANDS = ("check", "grade")

USAGE = ("gradcheck [options]  |  gradcheck check FILE[:FUNCTION] [options]  |  "
         "gradcheck grade SUBMISSION_DIR --spec SPEC.toml [options]")
CLOSED = "141 the output was closed early (piped into head, say): the rest is not printed."

EPILOG = f"""\
commands:
  gradcheck                                  the reference MLP on a grid of architectures (this help)
  gradcheck check FILE[:FUNCTION]            your own backprop (gradcheck check --help)
  gradcheck grade SUBMISSION_DIR --spec S    an untrusted submission (gradcheck grade --help)

examples:
  gradcheck                                  every architecture of the default grid
  gradcheck --depth 2 --activation tanh      two-layer tanh networks only
  gradcheck --widths 784,32,10 --batch 16    one architecture, with and without bias
  gradcheck --fd richardson --seed 7         ordinary differences, another draw
  gradcheck check hw.py                      check your own backprop (see gradcheck check --help)
  gradcheck grade SUB --spec hw.toml         grade an untrusted submission (see gradcheck grade --help)

exit status: 0 all witnesses agree, 1 some pair disagrees, 2 usage error, 3 none disagrees but
finite differences could not judge some tensor (every entry's step crosses a kink),
{CLOSED}
"""


class ExitCode(enum.IntEnum):
    """What ``gradcheck`` returns to the shell."""

    OK = 0
    DISAGREE = 1
    USAGE = 2
    INCONCLUSIVE = 3  # nothing failed, but some check could not judge enough to pass
    CLOSED = 141  # 128 + SIGPIPE, as a shell reports a command killed by its reader going away


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


class _Version(argparse.Action):
    """``--version``: ``gradcheck 0.1.0``, read from the installed package only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"gradcheck {version('gradcheck')}")
        except PackageNotFoundError:
            print("gradcheck (version unknown: not installed; pip install -e . in its folder)")
        parser.exit()


class Parser(argparse.ArgumentParser):
    """argparse that offers the nearest option when one is mistyped, and takes --version like every command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.options: list[str] = []  # every option string, for "did you mean"
        super().__init__(*args, **kwargs)
        self.add_argument("--version", action=_Version)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        self.options += action.option_strings
        return action

    def add_verbosity(self, verbose: str, quiet: str) -> None:
        """``--verbose/-v`` and ``--quiet/-q``, one or the other; ``verbose`` and ``quiet`` say what each prints."""
        group = self.add_mutually_exclusive_group()
        for action in (group.add_argument("--verbose", "-v", action="store_true", help=verbose),
                       group.add_argument("--quiet", "-q", action="store_true", help=quiet)):
            self.options += action.option_strings

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        parsed, unknown = self.parse_known_args(args, namespace)
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)}{self._nearest(unknown)}")
        return parsed

    def _nearest(self, unknown: Sequence[str]) -> str:
        """``; did you mean --seed?`` for the options nearest the unknown ones, if any is near."""
        import difflib

        names = {o.lstrip("-"): o for o in self.options if o.startswith("--")}
        guesses = {}
        for word in unknown:
            if word.startswith("--"):  # the prefix would make every pair of long options look alike
                near = difflib.get_close_matches(word.split("=", 1)[0].lstrip("-"), names, n=1)
                if near:
                    guesses[word.split("=", 1)[0]] = names[near[0]]
        if len(guesses) == 1:
            return f"; did you mean {next(iter(guesses.values()))}?"
        return "; did you mean " + ", ".join(f"{o} for {w}" for w, o in guesses.items()) + "?" if guesses else ""


def build_parser() -> Parser:
    """The argument parser of ``gradcheck`` (also used to document it)."""
    parser = Parser(
        prog="gradcheck",
        usage=USAGE,
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
    parser.add_verbosity(verbose="print every comparison, not only failures",
                         quiet="print only the summary line, and one line per failing comparison")
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


CHECK_EPILOG = f"""\
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
not judge enough (re-run with another --seed, or do what the report advises),
{CLOSED}
Public functions and classes the file defines that no check covers are listed by name
("not checked: …", stubs marked "not implemented"): the exit status says nothing about them.
"""


def build_check_parser() -> Parser:
    """The argument parser of ``gradcheck check``."""
    from gradcheck.checks.conventions import NAMES

    parser = Parser(
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
                            help=setting.help if setting.default is None else f"{setting.help} (default: {setting.default})")
    parser.add_verbosity(verbose="print every comparison in full",
                         quiet="print one line per check (its verdict) and the tally")
    return parser


def _setting(name: str, value: str) -> object:
    if name in gc_settings.OUTPUTS and value != "-":  # "-" is standard output
        problem = gc_settings.unwritable(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
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
                    for result in check_module(code, chosen, activation=args.activation, seed=args.seed + trial,
                                               lr=args.lr, batch=args.batch, dtype=args.dtype,
                                               require_stability=args.require_stability):
                        test = _test_id(target, code, result.target)
                        checked.append((test, dataclasses.replace(result, target=_shown(test))))
    except InvalidArgument as exc:
        print(f"gradcheck check: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    results = [r for _, r in checked]
    if args.report == "-" and args.html == "-":
        parser.error("--report - and --html - would both write to standard output: give one of them a file")
    piped = "-" in (args.report, args.html)
    out = Terminal(sys.stderr if piped else sys.stdout, quiet=args.quiet)  # "-": stdout is the JSON or the page
    for result in results:
        out.print(result.headline() if args.quiet else result.render(verbose=args.verbose) + "\n")
    if not function:  # FILE:FUNCTION asks for that function alone
        for target, code, chosen in targets:
            for line in coverage.of(code, conventions or (detect(code) if chosen is None else chosen)).lines():
                out.print(line if len(targets) == 1 else f"{target}: {line}", detail=True)
    out.print(tally(results, args.seed))
    if args.report:
        write_report(args.report, checked, {s.name: getattr(args, s.name) for s in gc_settings.SETTINGS})
        if args.report != "-":
            out.print(f"report written to {args.report}", detail=True)
    if args.html:
        from gradcheck import html

        html.write(args.html, checked, title=_shown(args.target), command=shlex.join(["gradcheck", "check", *argv]),
                   replay=_replay(args))
        if args.html != "-":
            out.print(f"html report written to {args.html}", detail=True)
    return exit_code(results)


def _replay(args: argparse.Namespace) -> Callable[[str, Any], str]:
    """The command that runs one check of ``gradcheck check`` again: the function it checked when that names its
    convention (``hw.py:nn_epoch``), else the file, with the same options and the check's own seed."""
    from gradcheck.checks.conventions import NAMES

    defaults = build_check_parser().parse_args([args.target])
    options = [word for c in args.convention or () for word in ("--convention", c)]
    options += [word for a in args.activation or () for word in ("--activation", a)]
    options += [word for name in ("lr", "batch", "dtype", "rtol", "witness") if getattr(args, name) != getattr(defaults, name)
                for word in (f"--{name}", str(getattr(args, name)))]
    options += ["--require-stability"] * bool(args.require_stability)

    def replay(test: str, result: Any) -> str:
        named = test.partition(":")[2] in NAMES and not args.convention
        return shlex.join(["gradcheck", "check", test if named else args.target, *options, "--seed", str(result.seed)])

    return replay


def _test_id(target: str, code: Any, checked: str) -> str:
    """How the report names a check: ``hw.py:nn_epoch`` when it checked one function the file defines, else ``hw.py``.

    ``target`` is the FILE[:FUNCTION] given, ``checked`` the name the check gave what it checked (a
    function's, a class method's or the module's own).
    """
    if ":" in target:
        return target
    found = code
    for part in checked.split("."):
        found = getattr(found, part, None)
    return f"{target}:{checked}" if callable(found) else target


def _shown(test: str) -> str:
    """The name a headline gives a check: its test id with the path cut to the file's name (``hw.py:my_grads``)."""
    path, colon, function = test.partition(":")
    return os.path.basename(os.path.abspath(path)) + colon + function


def _apps(target: str) -> list[str]:
    """``apps/simple_ml.py`` of the DLSys hw1 checkout a folder target is (or holds the package of), if it has one."""
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
    line = f"{len(results)} check{'' if len(results) == 1 else 's'}: {len(results) - failed - len(undecided)} passed, {failed} failed"
    if undecided:
        line += f", {len(undecided)} inconclusive ({', '.join(dict.fromkeys(r.target for r in undecided))})"
    return line + f" (seed {seed})"


def exit_code(results: Sequence) -> ExitCode:
    """1 if any check failed, else 3 if any could not judge enough, else 0."""
    verdicts = {r.verdict.value for r in results}
    if "fail" in verdicts:
        return ExitCode.DISAGREE
    return ExitCode.INCONCLUSIVE if "inconclusive" in verdicts or not results else ExitCode.OK


GRADE_EPILOG = f"""\
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
failed (the results say which checks, and a rerun of --batch grades them again);
{CLOSED}
"""


def build_grade_parser() -> Parser:
    """The argument parser of ``gradcheck grade``."""
    parser = Parser(
        prog="gradcheck grade", description="Grade one untrusted submission against an assignment spec.",
        epilog=GRADE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", metavar="SUBMISSION_DIR", help="the folder holding the student's files")
    parser.add_argument("--spec", required=True, metavar="SPEC.toml", help="the assignment spec (kept from the student)")
    for name in ("gradescope", "prairielearn", "junit", "json", "html"):
        parser.add_argument(f"--{name}", metavar="PATH", help=f"write {name} results here (at least one output, "
                                                               "or --batch, is required)")
    parser.add_argument("--batch", metavar="OUT_DIR",
                        help="SUBMISSION_DIR holds one folder per student: grade them all in parallel into "
                             "OUT_DIR/<name>/results.json and report.html, OUT_DIR/summary.csv and the class "
                             "dashboard OUT_DIR/index.html, skipping those already graded")
    parser.add_argument("--jobs", type=_positive, default=2, help="parallel graders with --batch (default: 2)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="when no sandbox layer works, run the submission as a plain child process with the "
                             "grader's privileges (only for code you trust; every results file says so)")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="print only the last line (the score, or where the batch summary is)")
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
        return "say where the results go: --gradescope PATH, --prairielearn PATH, --junit PATH, --json PATH, --html PATH or --batch OUT_DIR"
    problems = [gc_settings.unwritable(path) for path in outputs.values()]
    if args.batch:
        problems.append(gc_settings.unwritable(args.batch, folder=True))
    return next((p for p in problems if p), None)


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
                          allow_unsafe=args.unsafe_no_sandbox, progress=Terminal(sys.stderr, quiet=args.quiet))
        print(f"summary in {batch.summary}; class dashboard in {batch.dashboard}")
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
    try:
        if argv[:1] == ["check"]:
            code = check_main(argv[1:])
        elif argv[:1] == ["grade"]:
            code = grade_main(argv[1:])
        else:
            code = grid_main(argv)
        sys.stdout.flush()  # a reader gone away shows here, not as "Exception ignored" at exit
        return code
    except BrokenPipeError:
        # The recipe of Python's signal docs (note on SIGPIPE): point stdout at devnull so the
        # interpreter's own flush at exit has nowhere to fail, and stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.CLOSED


def grid_main(argv: Sequence[str]) -> int:
    """``gradcheck``: the three witnesses on every architecture of the grid, a row each as it finishes."""
    parser = build_parser()
    if argv and not argv[0].startswith("-"):  # the grid takes no positional argument: a command was meant
        import difflib

        near = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        parser.error(f"unknown command {argv[0]!r}; " + (f"did you mean {near[0]!r}?" if near else
                     "the commands are 'check' and 'grade' (gradcheck alone runs the reference grid)"))
    args = parser.parse_args(argv)
    if args.widths is None and max(args.depth) > len(DEFAULT_WIDTHS):
        parser.error(f"--depth goes up to {len(DEFAULT_WIDTHS)} on the default widths; give --widths for deeper networks")

    from gradcheck import report, witnesses  # JAX loads only once there is work to do

    out = Terminal(sys.stdout, status=sys.stderr, quiet=args.quiet)
    chosen = grid(args)
    fd = f"FD ({args.fd})"
    header = ["architecture", "reduction", "params", "closed~JAX", f"closed~{fd}", f"JAX~{fd}", "kinks excluded", "verdict", "ms"]
    # Rows are printed as they finish, so every width is fixed before the first: the errors are
    # x.xe-yy, the kinks at most the parameters, the time up to five digits.
    params = max(len(str(a.n_params)) for a, _ in chosen)
    widths = [max(len(a.describe()) for a, _ in chosen), max(len(r) for _, r in chosen), params, 7, 7, 7, params,
              max(map(len, VERDICT_WORDS.values())), 5]
    widths = [max(w, len(h)) for w, h in zip(widths, header)]
    line = columns(widths, right=[False, False, True, True, True, True, True, False, True])
    words = {word: verdict for verdict, word in VERDICT_WORDS.items()}  # the verdict column's words, coloured
    rows, failures, worst = [], [], {pair: 0.0 for pair in witnesses.PAIRS}
    started = time.perf_counter()
    out.print(f"gradcheck: three witnesses on the reference MLP, float64, m={args.batch}, seed {args.seed}", detail=True)
    out.print(line(header), detail=True)
    out.print(line(["-" * w for w in widths]), detail=True)
    with out.progress("architecture", len(chosen)) as advance:
        for arch, reduction in chosen:
            problem = witnesses.make_problem(arch, m=args.batch, reduction=reduction, seed=args.seed)
            result = witnesses.agree(problem, fd_method=args.fd)
            errors = [result.max_rel_err(*pair) for pair in witnesses.PAIRS]
            for pair, err in zip(witnesses.PAIRS, errors):
                worst[pair] = max(worst[pair], err)
            rows.append([arch.describe(), reduction, str(arch.n_params), *(f"{e:.1e}" for e in errors),
                         str(result.not_checkable), VERDICT_WORDS[result.verdict.value], f"{1000 * result.seconds:.0f}"])
            out.print(line(rows[-1]), words=words, detail=True)
            advance()
            failures.extend(c for c in result.comparisons if args.verbose or not c.passed)
    agreeing = sum(r[7] == "agree" for r in rows)
    undecided = sum(r[7] == VERDICT_WORDS["inconclusive"] for r in rows)
    out.print("", detail=True)
    out.print(f"{agreeing} of {len(rows)} architectures agree three ways "
              f"(max relative disagreement: " + ", ".join(f"{a}~{b} {worst[(a, b)]:.1e}" for a, b in witnesses.PAIRS)
              + f"; {time.perf_counter() - started:.1f} s).")
    if failures and args.quiet:
        for c in failures:
            out.print(f"{report.summary(c)} [{c.problem}]")
    elif failures:
        out.print("\n" + report.render_all(failures))
    if agreeing + undecided < len(rows):
        return ExitCode.DISAGREE
    return ExitCode.INCONCLUSIVE if undecided else ExitCode.OK


VERDICT_WORDS = {"pass": "agree", "fail": "DISAGREE", "inconclusive": "inconclusive"}


if __name__ == "__main__":
    sys.exit(main())
