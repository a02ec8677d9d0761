"""The assignment spec: which checks to run on a submission, their weights, visibility and limits.

A TOML file, kept with the grader and never shown to the submission:

    [assignment]
    name = "hw0"
    seed = 20261126          # or seed_env = "HW0_SEED": the secret seed of every input
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
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def _fail(where: str, message: str) -> InvalidArgument:
    return InvalidArgument(f"{where}: {message}")


def _typed(where: str, table: dict, key: str, kind: Any, default: Any) -> Any:
    value = table.get(key, default)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _fail(where, f"{key} must be {name}; got {value!r}")
    return value


def load(path: str | Path) -> Spec:
    """Read and validate an assignment spec; every error names the file, the check and the key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidArgument(f"no spec file at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{path}: not valid TOML ({exc})") from None
    where = str(path)
    head = raw.get("assignment", {})
    unknown = set(raw) - {"assignment", "check"}
    stability = _typed(where, head, "require_stability", bool, False)
    if unknown:
        raise _fail(where, f"unknown table(s) {sorted(unknown)}; a spec has [assignment] and [[check]]")
    if "seed" in head:
        seed = _typed(where, head, "seed", int, 0)
    elif "seed_env" in head:
        variable = _typed(where, head, "seed_env", str, "")
        if not os.environ.get(variable, "").isdigit():
            raise _fail(where, f"seed_env names {variable}, which must hold a non-negative integer")
        seed = int(os.environ[variable])
    else:
        raise _fail(where, "[assignment] needs seed = N or seed_env = \"VARIABLE\": the secret seed of the inputs")
    checks = []
    rows = raw.get("check", [])
    if not rows:
        raise _fail(where, "no [[check]] tables; list at least one check")
    for number, row in enumerate(rows, start=1):
        at = f"{where}, check {number}"
        known = {f for f in CheckSpec.__dataclass_fields__}
        extra = set(row) - known
        if extra:
            raise _fail(at, f"unknown key(s) {sorted(extra)}; a check takes {', '.join(sorted(known))}")
        convention = _typed(at, row, "convention", str, "")
        if convention not in CONVENTIONS:
            raise _fail(at, f"convention must be one of {', '.join(CONVENTIONS)}; got {convention!r}")
        visibility = _typed(at, row, "visibility", str, "visible")
        if visibility not in VISIBILITIES:
            raise _fail(at, f"visibility must be one of {', '.join(VISIBILITIES)}; got {visibility!r}")
        activation = _typed(at, row, "activation", (str, type(None)), None)
        if activation is not None:
            activations.get(activation)
        weight = float(_typed(at, row, "weight", (int, float), 1.0))
        if weight < 0:
            raise _fail(at, f"weight must be ≥ 0; got {weight}")
        checks.append(CheckSpec(
            name=_typed(at, row, "name", str, convention), file=_typed(at, row, "file", str, ""),
            convention=convention, function=_typed(at, row, "function", str, convention), weight=weight,
            partial_credit=_typed(at, row, "partial_credit", bool, False), visibility=visibility,
            activation=activation, lr=float(_typed(at, row, "lr", (int, float), 0.1)),
            batch=_typed(at, row, "batch", int, 16), dtype=_typed(at, row, "dtype", str, "float64"),
            require_stability=_typed(at, row, "require_stability", bool, stability),
            time_limit=_typed(at, row, "time_limit", (int, float, type(None)), None),
            memory_limit=_typed(at, row, "memory_limit", (int, type(None)), None),
        ))
        if checks[-1].time_limit is not None and not checks[-1].time_limit > 0:
            raise _fail(at, f"time_limit must be a positive number of seconds; got {checks[-1].time_limit}")
        if checks[-1].memory_limit is not None and checks[-1].memory_limit < 128:
            raise _fail(at, f"memory_limit must be at least 128 (MiB); got {checks[-1].memory_limit}")
        if checks[-1].dtype not in ("float64", "float32"):
            raise _fail(at, f"dtype must be \"float64\" or \"float32\"; got {checks[-1].dtype!r}")
        if not checks[-1].file:
            raise _fail(at, "file must name the submission file to check, e.g. file = \"simple_ml.py\"")
        if not checks[-1].lr > 0 or checks[-1].batch < 1:
            raise _fail(at, f"lr must be > 0 and batch ≥ 1; got lr = {checks[-1].lr:g}, batch = {checks[-1].batch}")
    time_limit = float(_typed(where, head, "time_limit", (int, float), 60.0))
    memory_limit = _typed(where, head, "memory_limit", int, 1024)
    hide = _typed(where, head, "hide", list, [])
    if not time_limit > 0:
        raise _fail(where, f"time_limit must be a positive number of seconds; got {time_limit:g}")
    if memory_limit < 128:
        raise _fail(where, f"memory_limit must be at least 128 (MiB): Python with numpy needs that; got {memory_limit}")
    if not all(isinstance(h, str) and h.startswith("/") for h in hide):
        raise _fail(where, f"hide must list absolute paths as strings; got {hide!r}")
    return Spec(name=_typed(where, head, "name", str, path.stem), seed=seed, checks=tuple(checks),
                time_limit=time_limit, memory_limit=memory_limit, hide=tuple(hide), path=path)
