"""The assignment spec: which checks to run on a submission, their weights, visibility and limits.

A TOML file, kept with the grader and never shown to the submission:

    [assignment]
    name = "hw0"
    seed_file = "secret_seed"  # a file next to this spec holding the secret seed of every input;
                             # or seed_env = "HW0_SEED" (an environment variable), or seed = N
    time_limit = 60          # seconds per check (default 60)
    memory_limit = 1024      # MiB per check (default 1024)
    hide = ["/autograder/source"]   # paths the submission must not see
    require_stability = false  # default of every check: a softmax that overflows only warns (hw0 allows it)

    [[check]]
    name = "nn_epoch"                 # shown to students
    file = "simple_ml.py"             # in the submission
    convention = "nn_epoch"           # see `gradcheck check --help`
    function = "nn_epoch"             # default: the convention's name
    weight = 10
    partial_credit = true             # score ∝ comparisons passed (default: all or nothing)
    visibility = "visible"            # visible | hidden | after_due_date | after_published
    lr = 0.1                          # options of the check: activation, lr, batch, dtype
    require_stability = true          # NaN/inf on logits near 1000 fails (default: the assignment's, false)
    time_limit = 30                   # this check's own limits (default: the assignment's)

Every key is checked: unknown keys, non-finite numbers and values out of range
are refused with the file, the check and the key. Each check draws its inputs
from its own seed, a keyed hash of the secret and the check (:func:`check_seed`),
so no output reveals the secret or lets a student replay another check's inputs.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from gradcheck.checks.conventions import NAMES as CONVENTIONS
from reference_mlp import activations
from reference_mlp.validation import InvalidArgument

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


@dataclass(frozen=True)
class CheckSpec:
    """One graded check."""

    name: str
    file: str
    convention: str
    function: str
    weight: float = 1.0
    partial_credit: bool = False
    visibility: str = "visible"
    activation: str | None = None  # the σ of code that takes none (default relu); mlp_grads: checked for it only
    lr: float = 0.1
    batch: int = 16
    dtype: str = "float64"
    require_stability: bool = False
    time_limit: float | None = None  # this check's own limits; default: the assignment's
    memory_limit: int | None = None


@dataclass(frozen=True)
class Spec:
    """An assignment: its checks, the secret seed and the limits of each check."""

    name: str
    seed: int
    checks: tuple[CheckSpec, ...]
    time_limit: float = 60.0
    memory_limit: int = 1024
    hide: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)


MAX_SECONDS = 3600.0  # one check's time limit: an hour is far beyond any homework
MAX_MEMORY = 64 << 10  # MiB
MAX_BATCH = 4096  # the epoch checks draw up to 4 × batch examples; the grader holds them too
MAX_LR = 10.0
ASSIGNMENT_KEYS = ("name", "seed", "seed_env", "seed_file", "time_limit", "memory_limit", "hide", "require_stability")


def check_seed(secret: int, check: CheckSpec, number: int) -> int:
    """The seed of one check's inputs: a keyed hash of the secret, the check's number and name.

    One-way: knowing one check's seed tells nothing about the secret or the other checks'.
    """
    key = str(secret).encode()
    digest = hmac.new(key, f"{number}:{check.name}:{check.convention}".encode(), hashlib.sha256).digest()
    return 10**8 + int.from_bytes(digest[:4], "big") % (1 << 30)


def _fail(where: str, message: str) -> InvalidArgument:
    return InvalidArgument(f"{where}: {message}")


def _typed(where: str, table: dict, key: str, kind: Any, default: Any) -> Any:
    value = table.get(key, default)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _fail(where, f"{key} must be {name}; got {value!r}")
    return value


def _number(where: str, table: dict, key: str, default: Any, low: float, high: float, *, integer: bool = False,
            strict_low: bool = False, unit: str = "") -> Any:
    """A finite number in [low, high] (``(low, high]`` if ``strict_low``), or ``default`` when absent."""
    if key not in table:
        return default
    value = _typed(where, table, key, int if integer else (int, float), default)
    low_ok = value > low if strict_low else value >= low
    if not (math.isfinite(value) and low_ok and value <= high):
        bound = f"{'>' if strict_low else '≥'} {low:g} and ≤ {high:g}{unit}"
        raise _fail(where, f"{key} must be a finite number {bound}; got {value!r}")
    return value


def _known(where: str, table: dict, keys: Sequence[str], what: str) -> None:
    for key in table:
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise _fail(where, f"unknown key {key!r}{hint}; {what} takes {', '.join(keys)}")


def _secret(where: str, head: dict, folder: Path) -> int:
    """The secret seed, from exactly one of seed, seed_env and seed_file."""
    given = [k for k in ("seed", "seed_env", "seed_file") if k in head]
    if len(given) != 1:
        raise _fail(where, "[assignment] needs exactly one of seed = N, seed_env = \"VARIABLE\" or "
                           f"seed_file = \"FILE\" (the secret seed of the inputs); got {', '.join(given) or 'none'}")
    if "seed" in head:
        return _number(where, head, "seed", 0, 0, 2**63 - 1, integer=True)
    if "seed_env" in head:
        variable = _typed(where, head, "seed_env", str, "")
        text = os.environ.get(variable, "").strip()
        if not text.isdigit():
            raise _fail(where, f"seed_env names {variable}, which must hold a non-negative integer "
                               f"({'it is not set' if variable not in os.environ else 'it holds something else'})")
        return int(text)
    name = _typed(where, head, "seed_file", str, "")
    path = folder / name
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise _fail(where, f"seed_file {name}: cannot read {path} ({exc.strerror})") from None
    if not text.isdigit():
        raise _fail(where, f"seed_file {name}: {path} must hold one non-negative integer")
    return int(text)


def load(path: str | Path) -> Spec:
    """Read and validate an assignment spec; every error names the file, the check and the key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidArgument(f"no spec file at {path}") from None
    except IsADirectoryError:
        raise InvalidArgument(f"{path} is a folder; --spec takes the assignment's TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{path}: not valid TOML ({exc})") from None
    where = str(path)
    unknown = set(raw) - {"assignment", "check"}
    if unknown:
        raise _fail(where, f"unknown table(s) {sorted(unknown)}; a spec has [assignment] and [[check]]")
    head = raw.get("assignment", {})
    if not isinstance(head, dict):
        raise _fail(where, "[assignment] must be a table")
    _known(where + ", [assignment]", head, ASSIGNMENT_KEYS, "[assignment]")
    stability = _typed(where, head, "require_stability", bool, False)
    seed = _secret(where, head, path.resolve().parent)
    time_limit = float(_number(where, head, "time_limit", 60.0, 0, MAX_SECONDS, strict_low=True, unit=" seconds"))
    memory_limit = _number(where, head, "memory_limit", 1024, 128, MAX_MEMORY, integer=True, unit=" MiB")
    hide = _typed(where, head, "hide", list, [])
    if not all(isinstance(h, str) and h.startswith("/") and h.strip("/") for h in hide):
        raise _fail(where, f"hide must list absolute paths other than / as strings; got {hide!r}")
    rows = raw.get("check", [])
    if not isinstance(rows, list) or not rows:
        raise _fail(where, "no [[check]] tables; list at least one check")
    checks = []
    known = tuple(CheckSpec.__dataclass_fields__)
    for number, row in enumerate(rows, start=1):
        at = f"{where}, check {number}"
        _known(at, row, known, "a check")
        convention = _typed(at, row, "convention", str, "")
        if convention not in CONVENTIONS:
            raise _fail(at, f"convention must be one of {', '.join(CONVENTIONS)}; got {convention!r}")
        visibility = _typed(at, row, "visibility", str, "visible")
        if visibility not in VISIBILITIES:
            raise _fail(at, f"visibility must be one of {', '.join(VISIBILITIES)}; got {visibility!r}")
        activation = _typed(at, row, "activation", (str, type(None)), None)
        if activation is not None:
            try:
                activations.get(activation)
            except InvalidArgument as exc:
                raise _fail(at, f"activation: {exc}") from None
        dtype = _typed(at, row, "dtype", str, "float64")
        if dtype not in ("float64", "float32"):
            raise _fail(at, f"dtype must be \"float64\" or \"float32\"; got {dtype!r}")
        file = _typed(at, row, "file", str, "")
        if not file or Path(file).is_absolute() or ".." in Path(file).parts:
            raise _fail(at, f"file must name the submission file to check, relative to the submission, "
                            f"e.g. file = \"simple_ml.py\" (for a needle package, its checkout folder: "
                            f"file = \".\" or \"python/needle\"); got {file!r}")
        batch = _number(at, row, "batch", 16, 1, MAX_BATCH, integer=True)
        checks.append(CheckSpec(
            name=_typed(at, row, "name", str, convention), file=file,
            convention=convention, function=_typed(at, row, "function", str, convention),
            weight=float(_number(at, row, "weight", 1.0, 0, 1e6, strict_low=True)),
            partial_credit=_typed(at, row, "partial_credit", bool, False), visibility=visibility,
            activation=activation, lr=float(_number(at, row, "lr", 0.1, 0, MAX_LR, strict_low=True)),
            batch=batch, dtype=dtype,
            require_stability=_typed(at, row, "require_stability", bool, stability),
            time_limit=_number(at, row, "time_limit", None, 0, MAX_SECONDS, strict_low=True, unit=" seconds"),
            memory_limit=_number(at, row, "memory_limit", None, 128, MAX_MEMORY, integer=True, unit=" MiB"),
        ))
    names = [c.name for c in checks]
    if len(set(names)) != len(names):
        raise _fail(where, f"two checks share the name {next(n for n in names if names.count(n) > 1)!r}; "
                           "give each check its own name")
    return Spec(name=_typed(where, head, "name", str, path.stem), seed=seed, checks=tuple(checks),
                time_limit=time_limit, memory_limit=memory_limit, hide=tuple(hide), path=path)
