"""Where finished checks are collected while a test session wants them.

The pytest plugin opens the sink and reads it after every test; outside
pytest it stays closed and nothing is kept. Importing this module costs nothing.
"""

from __future__ import annotations

from typing import Any

_sink: list[Any] | None = None


def open_sink() -> None:
    """Start keeping every check result handed to :func:`record`."""
    global _sink
    _sink = []


def record(result: Any) -> None:
    """Keep ``result`` if a sink is open."""
    if _sink is not None:
        _sink.append(result)


def drain() -> list[Any]:
    """Everything recorded since the last drain (empty when no sink is open)."""
    if _sink is None:
        return []
    taken = list(_sink)
    _sink.clear()
    return taken
