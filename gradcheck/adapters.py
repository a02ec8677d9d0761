"""Call user code the way courses write it, and bring back plain float arrays.

Every call gets fresh copies of its inputs, runs with numpy warnings silenced
(a NaN result is judged later, not printed now), and is followed by a check
that no input the code was not meant to change has changed. Whatever the user
returns (tuple, list, dict, array subclass) is turned into float64 ndarrays
here, so nothing downstream ever touches a user object.
"""

from __future__ import annotations

import copy
import re
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from gradcheck.compare import Comparison, compare


@dataclass(frozen=True)
class Call:
    """The outcome of calling user code once."""

    output: Any
    error: str | None
    mutated: tuple[Comparison, ...]
    inputs_after: tuple[Any, ...]


class Described(Exception):
    """An error whose message already says what the user's code raised and where (e.g. from the sandbox)."""


# NumPy 1 names that NumPy 2 removed, and what replaces each (handouts and old solutions still use them)
NUMPY_1 = {"product": "np.prod", "cumproduct": "np.cumprod", "sometrue": "np.any", "alltrue": "np.all",
           "asscalar": "a.item()", "in1d": "np.isin", "row_stack": "np.vstack", "trapz": "np.trapezoid",
           "NaN": "np.nan", "Inf": "np.inf", "infty": "np.inf", "float_": "np.float64", "complex_": "np.complex128",
           "round_": "np.round", "msort": "np.sort(a, axis=0)", "float": "float (or np.float64)",
           "int": "int (or np.int64)", "bool": "bool (or np.bool_)", "object": "object", "complex": "complex",
           "str": "str", "long": "int", "unicode": "str"}


# What NumPy 2 changed that NumPy-1 code trips over: its message, and what it means
NUMPY_2_CHANGES = (
    ("got an unexpected keyword argument 'newshape'",
     "got newshape=, NumPy 1's keyword: NumPy {version} calls it shape= (or pass the shape positionally)"),
    ("only 0-dimensional arrays can be converted to Python scalars",
     "only 0-dimensional arrays can be converted to Python scalars: NumPy 1 also converted an array holding one entry "
     "(int(np.where(…)[0])); index the entry (a[0]) or use a.item()"),
)


def describe_exception(exc: BaseException) -> str:
    """``ValueError: shapes … at hw.py:12 in two_layer_grads: dW1 = X.T @ G`` — where the user's code raised."""
    if isinstance(exc, Described):  # said already, where it happened (in a sandbox)
        return numpy_1_hint(str(exc))
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "site-packages" not in f.filename
              and "/gradcheck/" not in f.filename.replace("\\", "/") and not f.filename.startswith("<frozen")]
    where = ""
    if frames:
        f = frames[-1]
        where = f" at {f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" + (f": {f.line.strip()}" if f.line else "")
    return f"{type(exc).__name__}: {_short(numpy_1_hint(_message(exc)))}{where}"


def _message(exc: BaseException) -> str:
    """What ``exc`` says; for a KeyError of an object (a needle Tensor used as a key), what that object is."""
    key = exc.args[0] if isinstance(exc, KeyError) and len(exc.args) == 1 else None
    if key is None or isinstance(key, (str, int, float, tuple)):
        return str(exc)
    shape = getattr(key, "shape", None)
    return f"a {type(key).__name__}{f' of shape {tuple(shape)}' if shape is not None else ''}, a key the dict does not hold"


def _short(message: str, limit: int = 240) -> str:
    """A message on one line, cut at ``limit`` characters: a KeyError of a Tensor prints all its values."""
    if len(message) <= limit:
        return message
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def numpy_1_hint(message: str) -> str:
    """``message`` with NumPy's "no attribute 'product'" (and its long alias notes) said as what it is."""
    removed = re.search(r"module 'numpy' has no attribute '(\w+)'\.?(?:\n(?:.*\n)*?.*notes\.html#deprecations)?|"
                        r"`np\.(\w+)` was removed in the NumPy 2\.0 release\. Use `[^`]+` instead\.", message)
    name = removed and (removed.group(1) or removed.group(2))
    for said, now in NUMPY_2_CHANGES:
        if said in message:
            return message.replace(said, now.format(version=np.__version__))
    if name not in NUMPY_1:
        return message
    said = f"np.{name} is a NumPy 1 name that NumPy {np.__version__} no longer has; use {NUMPY_1[name]}"
    return message[:removed.start()] + said + message[removed.end():]


def call(fn: Callable, args: Sequence[Any], names: Sequence[str], *, kwargs: Mapping[str, Any] | None = None,
         may_change: Sequence[str] = ()) -> Call:
    """Call ``fn(*args, **kwargs)`` on copies and report errors and in-place changes to inputs.

    ``names`` label the positional arguments; those in ``may_change`` are
    meant to be updated in place (the weights of an SGD epoch).
    """
    originals = [copy.deepcopy(a) for a in args]
    working = [copy.deepcopy(a) for a in args]
    output, error = None, None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            output = fn(*working, **dict(kwargs or {}))
        except Exception as exc:  # the user's code failing is a finding, not a crash of the checker
            error = describe_exception(exc)
    mutated = []
    for name, before, after in zip(names, originals, working):
        if name in may_change:
            continue
        for label, b, a in _arrays(name, before, after):
            if b.shape != a.shape or not np.array_equal(b, a, equal_nan=b.dtype.kind == "f"):
                mutated.append(compare(a, b, tensor=f"{label} (input)", witnesses=("after your call", "before"),
                                       tolerance=None))
    return Call(output, error, tuple(mutated), tuple(working))


def _arrays(name: str, before: Any, after: Any):
    if isinstance(before, np.ndarray):
        yield name, before, np.asarray(after)
    elif isinstance(before, (list, tuple)):
        for i, (b, a) in enumerate(zip(before, after), start=1):
            if isinstance(b, np.ndarray):
                yield f"{name}[{i - 1}]", b, np.asarray(a)


KEY_PATTERNS = ("{n}", "d{n}", "grad_{n}", "grad{n}", "d{l}", "{l}", "grad_{l}")


def as_gradients(output: Any, names: Sequence[str], *, what: str, keys: Mapping[str, str] | None = None) -> dict[str, np.ndarray] | str:
    """Turn a tuple, list, dict or single array into ``{name: float64 array}``, or say why not.

    ``keys`` maps a gradient's name (``W1``) to the dict key the user returns
    (``"dW1"``); without it, ``W1``, ``dW1``, ``grad_W1``, ``dw1`` … are tried.
    """
    expected = f"{what} must return {len(names)} gradient(s) ({', '.join('d' + n for n in names)})"
    if output is None:
        return (f"not implemented? {expected}; it returned None. "
                f"Return them (e.g. `return {', '.join('d' + n for n in names)}`).")
    if isinstance(output, Mapping):
        values = []
        for n in names:
            candidates = [keys[n]] if keys and n in keys else [p.format(n=n, l=n.lower()) for p in KEY_PATTERNS]
            found = next((c for c in candidates if c in output), None)
            if found is None:
                return f"{expected}; the dict it returned has keys {sorted(map(str, output))} and none of {candidates}."
            values.append(output[found])
    elif isinstance(output, (tuple, list)):
        if output and all(v is None for v in output):
            return f"not implemented? {expected}; it returned {len(output)} None values (the starter code's placeholders)."
        if len(output) != len(names):
            return f"{expected} in order; it returned a {type(output).__name__} of {len(output)}."
        values = list(output)
    elif len(names) == 1:
        values = [output]
    else:
        return f"{expected} as a tuple, list or dict; it returned {type(output).__name__}."
    result = {}
    for n, v in zip(names, values):
        array = as_float_array(v)
        if isinstance(array, str):
            return f"d{n}: {array}"
        result[n] = array
    return result


def as_float_array(value: Any) -> np.ndarray | str:
    """A plain float ndarray copy of ``value`` (subclasses and lying objects stripped), or why not."""
    try:
        array = np.array(value, copy=True)
    except Exception as exc:
        return f"could not be read as an array ({exc})"
    if array.dtype.kind not in "biuf":
        return f"must be an array of real numbers; got dtype {array.dtype} ({type(value).__name__})"
    dtype = array.dtype if array.dtype.kind == "f" else np.float64
    return np.asarray(array, dtype=dtype).view(np.ndarray)


class LoadError(Exception):
    """User code could not be found or imported; the message says why."""


def load(spec: str) -> tuple[Any, str | None]:
    """Import ``path/to/file.py``, ``file.py:function``, ``package.module`` or ``package.module:function``.

    Returns the module and the function name after the colon (or None).
    """
    import importlib
    import pathlib
    import sys

    from gradcheck.grader import importing

    target, _, attribute = spec.partition(":")
    path = pathlib.Path(target)
    if path.is_dir():
        package = importing.needle_package(path)
        if package is None:
            raise LoadError(f"{target} is a folder: give a .py file, or a DLSys hw1 checkout (a folder holding "
                            f"python/needle/__init__.py, or the needle folder itself).")
        path = pathlib.Path(package)
    try:
        if path.suffix == ".py" or path.exists():
            if not path.is_file():
                raise LoadError(f"no such file: {target}")
            module = importing.import_file(path, f"gradcheck_user_{path.stem}")
        else:
            sys.path.insert(0, ".")
            try:
                module = importlib.import_module(target)
            finally:
                sys.path.remove(".")
    except LoadError:
        raise
    except SyntaxError as exc:
        raise LoadError(f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    except ModuleNotFoundError as exc:
        if path.is_file():  # the file was found: something it imports was not
            raise LoadError(f"importing {target} raised {describe_exception(exc)}: the file imports a module that is "
                            f"not installed or not on the Python path. Install it, or run from the folder the file's "
                            f"imports start from (for `import {exc.name}`, the folder holding {exc.name}/).") from None
        raise LoadError(f"cannot import {target!r}: {exc}. Give a path to a .py file or a module on the Python path.") from None
    except ImportError as exc:
        hint = (" The file imports relative to its package (from .layers import …): give its path inside the "
                "package's folders, with their __init__.py files in place.") if "relative import" in str(exc) else ""
        raise LoadError(f"importing {target} raised {describe_exception(exc)}.{hint}") from None
    except Exception as exc:
        raise LoadError(f"importing {target} raised {describe_exception(exc)}") from None
    if attribute and not callable(getattr(module, attribute, None)):
        defined = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        raise LoadError(f"{target} defines no function {attribute!r}; it defines: {', '.join(defined) or 'nothing callable'}.")
    return module, attribute or None
