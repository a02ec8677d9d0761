"""The outcome of a check: every comparison it made, rendered from the one record."""

from __future__ import annotations

from dataclasses import dataclass

from gradcheck.compare import BEYOND, STABILITY, Comparison, Verdict
from gradcheck.diagnose import CATALOG
from gradcheck.report import GradientMismatch, Inconclusive, Rendered, mistake, render, summary

RERUN = "re-run with another seed (--seed N, --gradcheck-seed=N or seed=N)"


@dataclass(frozen=True, repr=False)
class CheckResult(Rendered):
    """Every comparison one check made, and what the code declined to do."""

    target: str
    convention: str
    comparisons: tuple[Comparison, ...]
    seed: int
    unsupported: tuple[str, ...] = ()
    advice: str = RERUN  # what settles an inconclusive result
    warnings: tuple[Comparison, ...] = ()  # stability findings not required to pass: printed, never judged
    precision: str | None = None  # what the code was found to compute in, and how it was judged

    @property
    def failures(self) -> tuple[Comparison, ...]:
        """The comparisons whose verdict is FAIL."""
        return tuple(c for c in self.comparisons if c.verdict is Verdict.FAIL)

    @property
    def undecided(self) -> tuple[Comparison, ...]:
        """The comparisons whose verdict is INCONCLUSIVE: too little of the tensor could be judged."""
        return tuple(c for c in self.comparisons if c.verdict is Verdict.INCONCLUSIVE)

    @property
    def verdict(self) -> Verdict:
        """FAIL if any comparison failed; else INCONCLUSIVE if none was made or any could not judge; else PASS."""
        if self.failures:
            return Verdict.FAIL
        if not self.comparisons or self.undecided:
            return Verdict.INCONCLUSIVE
        return Verdict.PASS

    @property
    def passed(self) -> bool:
        """True when comparisons were made, none failed and every one judged enough to say so."""
        return self.verdict is Verdict.PASS

    @property
    def inconclusive(self) -> bool:
        """True when nothing failed but too little was judged to pass."""
        return self.verdict is Verdict.INCONCLUSIVE

    @property
    def diagnoses(self) -> tuple[str, ...]:
        """The distinct bug ids diagnosed, in order of first appearance."""
        return tuple(dict.fromkeys(c.bug for c in self.failures if c.bug))

    def functions(self) -> tuple[tuple[str, Verdict, str | None], ...]:
        """One verdict per function, when the check called several: (name, verdict, the first diagnosis's cause).

        A record belongs to the function or op its tensor is named after (``batchnorm_backward dx``,
        ``Summation gradient a``); a check whose records do not all name one (an MLP's ``W1``) has no
        per-function verdicts.
        """
        groups: dict[str, list[Comparison]] = {}
        for c in self.comparisons:
            name = c.tensor.split(" ", 1)[0]
            named = "_" in name or (name[:1].isupper() and any(ch.islower() for ch in name))  # a function, a class
            if " " not in c.tensor or not named:
                return ()
            groups.setdefault(name, []).append(c)
        if len(groups) < 2:
            return ()
        rows = []
        for name, records in groups.items():
            failing = [c for c in records if c.verdict is Verdict.FAIL]
            verdict = (Verdict.FAIL if failing else Verdict.INCONCLUSIVE
                       if any(c.verdict is Verdict.INCONCLUSIVE for c in records) else Verdict.PASS)
            cause = next((CATALOG[c.bug].cause for c in failing if c.bug in CATALOG), None)
            warned = [w for w in self.warnings if w.tensor.split(" ", 1)[0] == name]
            if warned and not failing:
                cause = f"warning, {warned[0].finding}: " + (CATALOG[warned[0].bug].cause if warned[0].bug in CATALOG
                                                             else warned[0].note or "wrong")
            rows.append((name, verdict, cause))
        return tuple(rows)

    def headline(self) -> str:
        """One line: ``two_layer_grads: FAIL, 3 of 8 comparisons failed (seed 0)``."""
        where = f"({self.convention}, seed {'hidden' if self.seed is None else self.seed})"  # None: kept by a grader
        if self.verdict is Verdict.PASS:
            return f"{self.target}: PASS, all {len(self.comparisons)} comparisons agree {where}"
        if self.verdict is Verdict.INCONCLUSIVE:
            if not self.comparisons:
                return f"{self.target}: INCONCLUSIVE, nothing could be compared {where}"
            k, n = len(self.undecided), len(self.comparisons)
            rest = f"; the other {n - k} agree" if k < n else ""
            return f"{self.target}: INCONCLUSIVE, {k} of {n} comparisons could not judge enough entries{rest} {where}; {self.advice}"
        return f"{self.target}: FAIL, {len(self.failures)} of {len(self.comparisons)} comparisons failed {where}"

    def render(self, *, verbose: bool = False) -> str:
        """The headline, a line per comparison that did not pass, then each failure (and undecided record) in full.

        The comparisons that agree are counted on one line (``verbose`` lists
        them, and shows each comparison in full). Failures repeated across cases
        with the same diagnosis are shown in full once, and a tensor's checks
        along random directions (``W1·v1``) fold into the tensor's own block.
        """
        lines = [self.headline()]
        functions = self.functions()
        lines += ["  per function:"] * bool(functions) + [
            f"    {verdict.value.upper():<12} {name}" + (f": {cause}" if cause else "") for name, verdict, cause in functions]
        lines += [f"  precision: {self.precision}"] if self.precision else []
        lines += [f"  unsupported: {u}" for u in self.unsupported]
        lines += [f"  WARNING {w.finding}: {w.tensor}{' ' + str(w.expected_shape) if w.expected_shape else ''}: "
                  f"{w.note or 'wrong'} [{w.problem}]" for w in self.warnings]
        found = {w.finding for w in self.warnings}
        if STABILITY in found:
            lines.append(f"  ({STABILITY} is not required here, so these do not fail the check; "
                         f"require it with --require-stability or require_stability=True)")
        if BEYOND in found:
            lines.append(f"  ({BEYOND}: the course's own tests never make these cases, so they do not fail the "
                         f"check; code that goes on to later homework needs them)")
        listed = self.comparisons if verbose else tuple(c for c in self.comparisons if not c.passed)
        problems: dict[str | None, list[Comparison]] = {}
        for c in listed:
            problems.setdefault(c.problem, []).append(c)
        for k, (problem, records) in enumerate(problems.items()):
            if k == 0 or verbose:  # the first problem record by record; the others one line each
                lines += [f"  {summary(c)} [{problem}]" for c in records]
                continue
            word = "FAIL" if any(c.failed for c in records) else "INCONCLUSIVE"
            tensors = ", ".join(dict.fromkeys(c.tensor.split("·")[0] for c in records))
            of = sum(c.problem == problem for c in self.comparisons)
            lines.append(f"  {word} also on {problem}: {len(records)} of {of} comparisons ({tensors})")
        agreeing = len(self.comparisons) - len(listed)
        if listed and agreeing:  # with none listed, the headline already says that all agree
            lines.append(f"  + {agreeing} other comparison{'s agree' if agreeing > 1 else ' agrees'}")
        shown, blocks = set(), []
        for c in self.comparisons if verbose else self.failures + self.undecided:
            key = mistake(c)
            if key in shown and not verbose:
                continue
            shown.add(key)
            blocks.append(render(c))
        return "\n\n".join(["\n".join(lines), *blocks])

    def to_dict(self) -> dict:
        """The result as plain JSON-ready data, every comparison included (see docs/report.schema.json)."""
        from gradcheck.report import to_dict

        return {"target": self.target, "convention": self.convention, "seed": self.seed, "verdict": self.verdict.value,
                "passed": self.passed, "precision": self.precision, "unsupported": list(self.unsupported),
                "comparisons": [to_dict(c) for c in self.comparisons], "warnings": [to_dict(c) for c in self.warnings]}

    @property
    def label(self) -> str:
        """What the check judged, as its headline names it."""
        return self.target


def settle(target: str, convention: str, records, seed: int, *, require_stability: bool = False,
           unsupported: tuple[str, ...] = (), advice: str = RERUN, precision: str | None = None) -> CheckResult:
    """The result of a check from all its records: stability findings judged only when ``require_stability``.

    A record marked as a stability finding (NaN or infinity on inputs built to
    overflow a naive softmax) is a warning unless stability is required, when
    it is an ordinary failure. A record marked BEYOND (a shape mistake in a case
    the course's own tests never make) is always a warning.
    """
    records = tuple(records)
    warned = {BEYOND} | (set() if require_stability else {STABILITY})
    warnings = tuple(r for r in records if r.finding in warned)
    judged = tuple(r for r in records if r.finding not in warned)
    return CheckResult(target, convention, judged, seed, tuple(unsupported), advice, warnings, precision)
