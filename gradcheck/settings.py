"""The knobs of a check, each declared once and read from wherever a user sets it.

Every setting has one entry here; the pytest plugin turns each into a
command-line option (``--gradcheck-NAME``), an ini key (``gradcheck_NAME``) and
a keyword of the ``@pytest.mark.gradcheck`` marker. Values are resolved in one
order: marker, then command line, then ini file, then the default; a bad value
is reported with the place it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

# Nothing heavy is imported here: the pytest plugin reads these settings for
# every session, including those that never run a check.


def _invalid(message: str) -> Exception:
    from reference_mlp.validation import InvalidArgument

    return InvalidArgument(message)


def _integer(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer ≥ {minimum}")
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise ValueError(f"expected an integer ≥ {minimum}") from None
        if number < minimum:
            raise ValueError(f"expected an integer ≥ {minimum}")
        return number
    return parse


def _fraction(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("expected a number between 0 and 1, e.g. 1e-6") from None
    if not 0 < number < 1:
        raise ValueError("expected a number between 0 and 1, e.g. 1e-6")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError("expected true or false")


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value
    return parse


def unwritable(path: str, *, folder: bool = False) -> str | None:
    """Why ``path`` cannot be written, or None: the folder it goes in is missing, or it is a folder (a file if ``folder``).

    Asked of every path a command writes, before any work.
    """
    import os

    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return f"cannot write {path}: the folder {parent} does not exist (create it first)"
    if folder and os.path.exists(path) and not os.path.isdir(path):
        return f"cannot write {path}: it is a file; give a folder (new, or holding earlier results)"
    if not folder and os.path.isdir(path):
        return f"cannot write {path}: it is a folder; give a file name"
    return None


def _output(value: Any) -> str:
    """A file to write: "-" (standard output), or a path :func:`unwritable` finds nothing wrong with."""
    path = str(value)
    problem = None if path == "-" else unwritable(path)
    if problem:
        raise ValueError(problem)
    return path


@dataclass(frozen=True)
class Setting:
    """One knob: its name, how to read it, its default and what it does."""

    name: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    metavar: str = "VALUE"
    in_marker: bool = True
    flag: bool = False  # a switch: the command-line option takes no value

    @property
    def option(self) -> str:
        """The option's spelling after the prefix: ``require-stability`` for ``require_stability``."""
        return self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("seed", _integer(0), 0, "seed of every generated input; printed so a failure can be replayed", "N"),
    Setting("trials", _integer(1), 1, "run each check with this many seeds (seed, seed+1, …)", "N"),
    Setting("rtol", _fraction, None, "relative tolerance for every comparison (default: by dtype, 1e-8 for float64)", "X"),
    Setting("witness", _choice("auto", "jax", "closed-form"), "auto",
            "what user code is compared with: auto (the seed's equations, backed by finite differences along random "
            "directions, and by JAX wherever they disagree), jax (autodiff decides every entry) or closed-form (the "
            "seed's equations alone, no JAX)", "{auto,jax,closed-form}"),
    Setting("require_stability", _boolean, False,
            "fail code whose softmax overflows to NaN or inf on logits near 1000 (by default a warning: DLSys hw0 "
            "allows a direct softmax)", "{true,false}", flag=True),
    Setting("report", _output, None, "write every check as JSON to this file (- for standard output)", "PATH",
            in_marker=False),
    Setting("html", _output, None, "write every check as one self-contained HTML report (error heatmaps, worst entries, "
            "probable causes) to this file", "PATH", in_marker=False),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
MARKER_KEYS: tuple[str, ...] = tuple(s.name for s in SETTINGS if s.in_marker)
OUTPUTS: tuple[str, ...] = tuple(s.name for s in SETTINGS if not s.in_marker)  # where reports go, not how to check


def parse(name: str, value: Any, source: str) -> Any:
    """Read ``value`` for setting ``name``, or raise naming ``source`` (where the value came from)."""
    setting = BY_NAME[name]
    try:
        return setting.parse(value)
    except ValueError as exc:
        raise _invalid(f"{source}: bad value {value!r} for {name}: {exc}.") from None


def resolve(layers: list[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Merge (source, values) layers, first wins, and parse each value against its source.

    ``None`` means "not set here". Unset settings take their defaults.
    """
    resolved = {}
    for setting in SETTINGS:
        for source, values in layers:
            value = values.get(setting.name)
            if value is not None and value != "":
                resolved[setting.name] = parse(setting.name, value, source)
                break
        else:
            resolved[setting.name] = setting.default
    return resolved


def check_marker_keys(keys: Any, where: str) -> None:
    """Raise if a marker names a setting that does not exist (or may not be set per test)."""
    unknown = sorted(set(keys) - set(MARKER_KEYS))
    if unknown:
        raise _invalid(
            f"{where}: unknown keyword{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"in @pytest.mark.gradcheck; it accepts {', '.join(MARKER_KEYS)}."
        )
