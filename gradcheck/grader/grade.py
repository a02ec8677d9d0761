"""Grade one submission: every check in a fresh sandbox, every verdict in this (trusted) process."""

from __future__ import annotations

import dataclasses
import os
import re
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from gradcheck.checks import needle
from gradcheck.checks.common import judged_by
from gradcheck.checks.conventions import REDRAW_STRIDE, REDRAWS, check_module
from gradcheck.checks.result import CheckResult
from gradcheck.grader import importing
from gradcheck.grader.sandbox import UNSAFE, GraderError, Limits, Sandbox, SubmissionError, best_layer
from gradcheck.grader.spec import CheckSpec, Spec, check_seed

FUNCTION_CONVENTIONS = ("two_layer_grads", "mlp_grads", "nn_epoch", "softmax_regression_epoch", "softmax_loss")
MAX_OUTPUT = 20_000
_SEED = re.compile(r"\bseed\s*=?\s*\d+")


@dataclass(frozen=True)
class Graded:
    """The outcome of one check of the spec."""

    check: CheckSpec
    number: int
    score: float
    status: str  # "passed" or "failed"
    output: str
    seconds: float
    result: CheckResult | None = None
    inconclusive: bool = False  # nothing failed, but even a re-drawn problem left too much unjudged
    grader_error: str | None = None  # grading itself failed: not the student's doing, retried on resume


@dataclass(frozen=True)
class Grade:
    """The outcome of grading one submission."""

    assignment: str
    submission: str
    layer: str
    checks: tuple[Graded, ...]
    seconds: float

    @property
    def score(self) -> float:
        """Points earned over every check."""
        return sum(g.score for g in self.checks)

    @property
    def max_score(self) -> float:
        """Points available over every check."""
        return sum(g.check.weight for g in self.checks)

    @property
    def needs_review(self) -> tuple[str, ...]:
        """The checks course staff should look at by hand: those that stayed inconclusive."""
        return tuple(g.check.name for g in self.checks if g.inconclusive)

    @property
    def grading_failed(self) -> tuple[str, ...]:
        """The checks the grader could not grade (its own fault): graded again on a resumed batch."""
        return tuple(g.check.name for g in self.checks if g.grader_error)

    @property
    def unsafe(self) -> bool:
        """Whether the submission ran without a sandbox (``--unsafe-no-sandbox``)."""
        return self.layer == UNSAFE


def _student_text(text: str, secrets: Sequence[int] = ()) -> str:
    """A report fit for the student: every seed hidden (they would let a student replay the hidden
    inputs), the length capped."""
    text = _SEED.sub("seed (hidden)", text)
    for secret in secrets:
        text = re.sub(rf"(?<!\d){secret}(?!\d)", "(hidden)", text)
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n… (output truncated)"


GRADER_FAULT = ("The autograder could not grade this check. This is a fault of the grading setup, not of your "
                "code; please tell course staff. Reason: ")


def failed_grading(check: CheckSpec, number: int, reason: str, seconds: float = 0.0) -> Graded:
    """A check the grader could not grade: no points, said plainly, retried by a resumed batch."""
    return Graded(check, number, 0.0, "failed", GRADER_FAULT + reason, seconds, grader_error=reason)


def _score(check: CheckSpec, result: CheckResult) -> float:
    """Full marks only for a PASS; partial credit counts the comparisons that passed (never an undecided one)."""
    if result.passed:
        return check.weight
    if not check.partial_credit or not result.comparisons:
        return 0.0
    passed = sum(c.passed for c in result.comparisons)
    return round(check.weight * passed / len(result.comparisons), 4)


def grade_check(submission: Path, spec: Spec, check: CheckSpec, number: int, layer: str, hide: Sequence[Path]) -> Graded:
    """Run one check of the spec on the submission.

    A failure of the submission is a zero with its reason; a failure of the
    grading itself (the sandbox, the grader's machine) is reported as such.
    """
    start = time.monotonic()
    seed = check_seed(spec.seed, check, number)
    # The seeds a check draws from: its own, one per trial after it, and those of its re-draws.
    secrets = (spec.seed, *(seed + REDRAW_STRIDE * attempt + k for attempt in range(REDRAWS + 1) for k in range(64)))

    def zero(reason: str) -> Graded:
        return Graded(check, number, 0.0, "failed", _student_text(reason, secrets), time.monotonic() - start)

    path = submission / check.file
    if not os.path.lexists(path):
        present = sorted(p.name for p in submission.iterdir()) if submission.is_dir() else []
        return zero(f"{check.file} was not found in the submission (it contains: {', '.join(present) or 'nothing'}).")
    if check.convention == "needle":  # the package, found in the checkout folder as `gradcheck check` finds it
        package = importing.needle_package(str(path)) if path.is_dir() and not path.is_symlink() else None
        if package is None:
            return zero(f"{check.file} holds no needle package: the checkout's python/needle/__init__.py was not "
                        f"found there.")
        path = Path(package)
    limits = Limits(seconds=check.time_limit or spec.time_limit, memory_mb=check.memory_limit or spec.memory_limit)
    try:
        with Sandbox(path, limits=limits, hide=hide, layer=layer, root=submission) as box:
            module = box.module()
            if check.convention in FUNCTION_CONVENTIONS:
                if check.function not in box.names:
                    defined = ", ".join(sorted(box.names)) or "nothing"
                    return zero(f"{check.file} defines no function {check.function} (it defines: {defined}).")
                written_with_needle = {"needle_calls": box.needle_calls()} if box.needle_flavoured else {}
                module = types.SimpleNamespace(__name__=check.function, **written_with_needle,
                                               **{check.convention: getattr(module, check.function)})
            if check.convention == "needle":  # every op and engine function hw1 asks for, a stub failing
                result = needle.check_needle(box.needle_calls(), seed=seed, require=needle.HW1,
                                             require_stability=check.require_stability)
            else:
                with judged_by("jax"):  # a check re-draws its own problems while they judge too little
                    result = check_module(module, (check.convention,), activation=check.activation,
                                          seed=seed, lr=check.lr, batch=check.batch,
                                          dtype=check.dtype, require_stability=check.require_stability)[0]
    except GraderError as exc:
        return failed_grading(check, number, _student_text(str(exc), secrets), time.monotonic() - start)
    except SubmissionError as exc:
        return zero(f"{exc}")
    except MemoryError:
        return failed_grading(check, number, "the grader ran out of memory", time.monotonic() - start)
    except Exception as exc:  # a check that could not finish is a zero with a reason, never a crash
        return zero(f"the check could not be completed: {type(exc).__name__}: {exc}")
    score, status, text = _score(check, result), "passed" if result.passed else "failed", result.render()
    if result.inconclusive:
        text = ("This check could not judge enough of your code, even on re-drawn inputs, so it cannot "
                "give full marks; it has been flagged for course staff to review.\n\n" + text)
    # a graded check must cover every activation: declining one is not a pass (a needle check's list holds
    # only code that is not the student's, such as the 2023 handout's own EWisePow.gradient)
    if result.unsupported and check.convention != "needle":
        score, status = 0.0, "failed"
        text = ("Activations your code declined count as failures when grading:\n"
                + "\n".join(f"  {u}" for u in result.unsupported) + "\n\n" + text)
    return Graded(check, number, score, status, _student_text(text, secrets), time.monotonic() - start,
                  _hidden_seeds(result, secrets), inconclusive=result.inconclusive)


def _hidden_seeds(result: CheckResult, secrets: Sequence[int]) -> CheckResult:
    """The result with every seed removed, from its fields and from its text, so that no output (the JSON
    results, the HTML report) lets anyone replay the hidden inputs."""
    def scrubbed(c):
        return dataclasses.replace(c, seed=None, **{field: _student_text(getattr(c, field), secrets)
                                                    for field in ("problem", "note", "diagnosis") if getattr(c, field)})

    return dataclasses.replace(result, seed=None, comparisons=tuple(scrubbed(c) for c in result.comparisons),
                               warnings=tuple(scrubbed(c) for c in result.warnings),
                               advice=_student_text(result.advice, secrets),
                               unsupported=tuple(_student_text(u, secrets) for u in result.unsupported),
                               precision=result.precision and _student_text(result.precision, secrets))


def grade(submission: Path, spec: Spec, *, layer: str | None = None, hide: Sequence[Path] = (),
          allow_unsafe: bool = False) -> Grade:
    """Grade ``submission`` (a folder) against ``spec``. The spec's folder and ``hide`` stay invisible to it.

    Without a layer that can run the submission unprivileged, every check
    reports that grading failed (``allow_unsafe`` runs it without a sandbox).
    """
    start = time.monotonic()
    submission = Path(submission).resolve()
    hidden = [Path(p) for p in (*spec.hide, *hide)]
    if spec.path is not None:
        hidden.append(spec.path.resolve().parent)
    try:
        layer = layer or best_layer(allow_unsafe)
    except GraderError as exc:
        return Grade(spec.name, str(submission), "none", tuple(
            failed_grading(check, number, str(exc)) for number, check in enumerate(spec.checks, start=1)),
            time.monotonic() - start)
    checks = tuple(grade_check(submission, spec, check, number, layer, hidden)
                   for number, check in enumerate(spec.checks, start=1))
    return Grade(spec.name, str(submission), layer, checks, time.monotonic() - start)


def grade_supervised(submission: Path, spec: Spec, *, hide: Sequence[Path] = (), allow_unsafe: bool = False) -> Grade:
    """:func:`grade` in a separate grading process: if that process dies (out of memory, killed), the
    grade says grading failed for every check instead of leaving no result at all."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=1, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        try:
            return pool.submit(grade, submission, spec, hide=hide, allow_unsafe=allow_unsafe).result()
        except BrokenProcessPool:
            why = "the grading process died (out of memory, or killed)"
        except Exception as exc:  # the grader's own bug: still a result that says what happened
            why = f"the grader failed: {type(exc).__name__}: {exc}"
    return Grade(spec.name, str(submission), "none", tuple(
        failed_grading(check, number, why) for number, check in enumerate(spec.checks, start=1)), 0.0)


def die_with_parent(parent: int) -> None:
    """Make this grading process (a worker of a pool started by ``parent``) die with that command, so that
    killing ``gradcheck grade`` also stops the sandboxes it holds (each dies with its grader)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    if os.getppid() != parent:  # the command died before the line above: do not grade for nobody
        os._exit(1)
