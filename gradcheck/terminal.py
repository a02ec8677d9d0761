"""The terminal the ``gradcheck`` command writes to: verdicts in colour, a transient progress bar, quiet runs.

Colour follows https://no-color.org. rich is imported only when a line is
coloured or a bar is shown, so ``gradcheck check FILE`` into a pipe starts as
fast as it would without it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Sequence, TextIO

if TYPE_CHECKING:
    from rich.text import Text

VERDICT_WORDS = {"PASS": "pass", "FAIL": "fail", "INCONCLUSIVE": "inconclusive"}  # word → the verdict it shows
STYLES = {"pass": "green", "fail": "red", "inconclusive": "yellow"}


def is_terminal(stream: object) -> bool:
    """True when ``stream`` is an open terminal (not a pipe, a file or a capture)."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no isatty, or already closed
        return False


class Terminal:
    """Where a command's lines go: ``stream`` for what it prints, ``status`` (default: ``stream``) for a progress bar.

    Colour is on when ``stream`` is a terminal whose TERM is not "dumb", or when
    FORCE_COLOR is set; NO_COLOR set to anything but "" turns it off whatever
    else says. The bar is shown only when ``status`` is such a terminal.
    ``quiet`` drops the lines printed as ``detail``.
    """

    def __init__(self, stream: TextIO | None = None, *, status: TextIO | None = None,
                 environ: Mapping[str, str] | None = None, quiet: bool = False) -> None:
        self.stream = sys.stdout if stream is None else stream
        self.status = self.stream if status is None else status
        self.environ = os.environ if environ is None else environ
        self.quiet = quiet
        dumb = self.environ.get("TERM") == "dumb"
        self.colour = not self.environ.get("NO_COLOR") and (
            bool(self.environ.get("FORCE_COLOR")) or (not dumb and is_terminal(self.stream)))
        self.live = not dumb and is_terminal(self.status)
        self._bar = None  # the rich Progress while one is shown
        self._renderer = None  # the rich Console that turns styles into ANSI codes, once one is needed

    def print(self, text: str = "", *, words: Mapping[str, str] = VERDICT_WORDS, detail: bool = False) -> None:
        """Write ``text`` and a newline, each whole word of ``words`` in the colour of its verdict, and flush.

        ``words`` maps a word to the verdict it stands for ("pass", "fail" or
        "inconclusive"). A ``detail`` line is dropped when the terminal is quiet.
        """
        if detail and self.quiet:
            return
        if self._bar is not None and is_terminal(self.stream):  # above the bar, so the bar stays whole
            self._bar.console.print(self._styled(text, words))
            return
        if self.colour:
            text = self._ansi(self._styled(text, words))
        self.stream.write(text + "\n")
        self.stream.flush()

    @contextlib.contextmanager
    def progress(self, what: str, total: int, *, done: int = 0) -> Iterator[Callable[[], None]]:
        """Show ``what k/total`` (from ``done``) and a bar on ``status`` while the block runs; yield what counts one.

        The bar is transient (it leaves nothing behind) and redrawn only when
        counted, from the caller's thread. Off a terminal nothing is shown.
        """
        if not self.live:
            yield lambda: None
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(file=self.status, force_terminal=True, no_color=bool(self.environ.get("NO_COLOR")),
                          highlight=False, soft_wrap=True)
        # No refresh thread: the grader forks its workers while the bar is shown.
        with Progress(TextColumn("{task.description}"), MofNCompleteColumn(), BarColumn(), console=console,
                      transient=True, auto_refresh=False) as bar:
            task = bar.add_task(what, total=total, completed=done)
            self._bar = bar
            try:
                yield lambda: bar.update(task, advance=1, refresh=True)
            finally:
                self._bar = None

    def _styled(self, text: str, words: Mapping[str, str]) -> Text:
        from rich.text import Text

        styled = Text(text)
        if self.colour and words:
            for match in re.finditer(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", text):
                styled.stylize(STYLES[words[match.group()]], *match.span())
        return styled

    def _ansi(self, styled: Text) -> str:
        """``styled`` as text with ANSI colour codes; written by the caller, so a closed pipe raises as for any line."""
        if self._renderer is None:
            import io

            from rich.console import Console

            self._renderer = Console(file=io.StringIO(), force_terminal=True, no_color=False, color_system="standard",
                                     highlight=False, soft_wrap=True)
        with self._renderer.capture() as captured:
            self._renderer.print(styled, end="")
        return captured.get()


def columns(widths: Sequence[int], right: Sequence[bool]) -> Callable[[Sequence[str]], str]:
    """The row formatter of a table printed a row at a time, its widths fixed up front (as report.table lays out)."""
    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()
    return line
