"""The outcome of a check: every comparison it made, rendered from the one record."""

from __future__ import annotations

from dataclasses import dataclass

from gradcheck.compare import Comparison, Verdict
from gradcheck.report import render, summary


class GradientMismatch(AssertionError):
    """A gradient of user code disagrees with the oracle; the message is the full report."""


@dataclass(frozen=True)
class CheckResult:
    """Every comparison one check made, and what the code declined to do."""

    target: str
    convention: str
    comparisons: tuple[Comparison, ...]
    seed: int
    unsupported: tuple[str, ...] = ()

    @property
    def failures(self) -> tuple[Comparison, ...]:
        """The comparisons whose verdict is FAIL."""
        return tuple(c for c in self.comparisons if c.verdict is Verdict.FAIL)

    @property
    def passed(self) -> bool:
        """True when no comparison failed and at least one was made."""
        return bool(self.comparisons) and not self.failures

    @property
    def diagnoses(self) -> tuple[str, ...]:
        """The distinct bug ids diagnosed, in order of first appearance."""
        return tuple(dict.fromkeys(c.bug for c in self.failures if c.bug))

    def headline(self) -> str:
        """One line: ``two_layer_grads: FAIL, 3 of 8 comparisons failed (seed 0)``."""
        if self.passed:
            return f"{self.target}: PASS, all {len(self.comparisons)} comparisons agree ({self.convention}, seed {self.seed})"
        return (f"{self.target}: FAIL, {len(self.failures)} of {len(self.comparisons)} comparisons failed "
                f"({self.convention}, seed {self.seed})")

    def render(self, *, verbose: bool = False) -> str:
        """The headline, one summary line per comparison, then every failure in full.

        Failures repeated across cases with the same diagnosis are shown in full
        once, and a tensor's checks along random directions (``W1·v1``) fold
        into the tensor's own block.
        """
        lines = [self.headline()]
        lines += [f"  unsupported: {u}" for u in self.unsupported]
        lines += [f"  {summary(c)} [{c.problem}]" for c in self.comparisons]
        shown, blocks = set(), []
        for c in self.comparisons if verbose else self.failures:
            key = (c.tensor.split("·")[0], c.bug, c.note is not None)
            if key in shown and not verbose:
                continue
            shown.add(key)
            blocks.append(render(c))
        return "\n\n".join(["\n".join(lines), *blocks])

    def to_dict(self) -> dict:
        """The result as plain JSON-ready data, every comparison included (see docs/report.md)."""
        from gradcheck.report import to_dict

        return {"target": self.target, "convention": self.convention, "seed": self.seed, "passed": self.passed,
                "unsupported": list(self.unsupported), "comparisons": [to_dict(c) for c in self.comparisons]}

    def raise_if_failed(self) -> "CheckResult":
        """Raise :class:`GradientMismatch` with the report if anything failed; return self otherwise."""
        __tracebackhide__ = True
        if not self.passed:
            raise GradientMismatch(self.render())
        return self
