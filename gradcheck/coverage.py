"""What a file defines that no check covered, and which of its functions are stubs.

An exit status of 0 must never claim more than was checked: a CS231n
``layers.py`` whose affine and ReLU layers pass may still hold a wrong
``max_pool_backward`` that nothing ran. So every report lists, by name, the
public functions and classes the file defines that no check covered, and marks
those whose body does nothing (``pass``, ``return None``, ``raise
NotImplementedError``, only a docstring or ``...``) as not implemented.

Stubs are found by reading the source (``ast``), never by running it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass
from typing import Any, Iterable

# What each convention's check calls, by name (the layer checks take every σ they know).
# Checks that leave a handout's unimplemented functions alone (a layers.py is mostly stubs at first).
SKIPS_STUBS = {"layers"}
_MODULE_CLASSES = ("Linear", "ReLU", "Sigmoid", "Tanh", "SoftmaxCrossEntropy")


@dataclass(frozen=True)
class Coverage:
    """The public names a file defines that no check covered, and the stubs among them."""

    unchecked: tuple[str, ...]
    stubs: tuple[str, ...]
    waiting: tuple[str, ...] = ()  # checked once the stubs they are built from are done
    built_from: tuple[str, ...] = ()  # those stubs

    def lines(self) -> list[str]:
        """``not checked: conv_forward_naive, max_pool_backward (not implemented)``, or nothing."""
        if not self.unchecked:
            return []
        names = [f"{n} (not implemented)" if n in self.stubs else
                 f"{n} (built from {', '.join(self.built_from)})" if n in self.waiting else n for n in self.unchecked]
        them = "it" if len(names) == 1 else "them"
        why = (f"{'it is' if len(names) == 1 else 'they are'} not implemented yet"
               + (" or built from what is not" if self.waiting else "")
               if set(self.unchecked) <= set(self.stubs) | set(self.waiting) else f"no gradcheck check covers {them}")
        return [f"not checked: {', '.join(names)} — {why}, so the exit status says nothing about {them}"]


def covered(convention: str, names: Iterable[str]) -> set[str]:
    """The names of ``names`` that the check of ``convention`` calls."""
    names = set(names)
    if convention == "layers":
        from gradcheck.checks.layers import covers

        return covers(names)
    if convention == "modules":
        return names & set(_MODULE_CLASSES)
    if convention == "two_layer_net":
        return names & {"TwoLayerNet"}
    if convention == "fc_net":
        return names & {"FullyConnectedNet"}
    if convention == "cnn":
        return names & {"ThreeLayerConvNet"}
    if convention == "linear_classifiers":
        from gradcheck.checks.classifiers import FUNCTIONS

        return names & set(FUNCTIONS)
    return names & {convention}


def defined(module: Any) -> dict[str, Any]:
    """The public functions and classes ``module`` defines itself (not those it imports)."""
    own = getattr(module, "__name__", None)
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
            and getattr(value, "__module__", None) == own}


def is_stub(value: Any) -> bool:
    """True when a function's body (or every method of a class) does nothing but pass, return None or raise.

    A function whose source cannot be read is never called a stub.
    """
    try:
        source = inspect.getsource(value)
    except (OSError, TypeError):
        return False
    return is_stub_source(source)


def is_stub_source(source: str) -> bool:
    """:func:`is_stub` of a function's or class's source text (a sandboxed submission sends its sources)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return False
    node = tree.body[0] if tree.body else None
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _always_raises_not_implemented(node):
        return True
    if isinstance(node, ast.ClassDef):
        methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name != "__init__"]
        return bool(methods) and all(_empty(m) for m in methods)
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _empty(node)


def _always_raises_not_implemented(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Straight-line lines (assignments, calls) and then ``raise NotImplementedError``: the handout's given
    lines before its stub (hw1's compute_gradient_of_variables builds node_to_output_grads_list first). A loop
    or a branch before the raise is the student's own work, left with the raise after it: that is judged."""
    *given, last = function.body or [None]
    return (isinstance(last, ast.Raise) and last.exc is not None and "NotImplementedError" in ast.unparse(last.exc)
            and all(isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.Pass)) for s in given))


def _empty(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """pass, ``...``, a docstring, ``return``/``return None`` and ``raise NotImplementedError`` only, after
    assignments of None or of what was passed in (CS231n's ``dx, dw = None, None`` … ``return dx, dw``, and
    its forwards' ``out = None`` … ``cache = (x, w, b, conv_param)`` … ``return out, cache``)."""
    arguments = function.args
    given = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
    nones: set[str] = set()
    for statement in function.body:
        if isinstance(statement, ast.Pass) or (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)):
            continue
        if isinstance(statement, ast.Assign) and _inert(statement.value, nones | given):
            for target in statement.targets:
                pairs = (zip(target.elts, statement.value.elts) if isinstance(target, ast.Tuple)
                         and isinstance(statement.value, ast.Tuple) and len(target.elts) == len(statement.value.elts)
                         else [(target, statement.value)])
                for name, value in pairs:
                    bound = {t.id for t in ast.walk(name) if isinstance(t, ast.Name)}
                    nones, given = (nones | bound, given - bound) if _is_none(value, nones) else (nones - bound, given | bound)
            continue
        if isinstance(statement, ast.Return) and (statement.value is None or _returns_nothing(statement.value, nones, given)):
            continue
        if isinstance(statement, ast.Raise) and statement.exc is not None and "NotImplementedError" in ast.unparse(statement.exc):
            continue
        return False
    return True


def _returns_nothing(node: ast.AST, nones: set[str], given: set[str]) -> bool:
    """None, or a tuple of Nones and inputs passed through with at least one None: nothing was computed."""
    if _is_none(node, nones):
        return True
    return isinstance(node, ast.Tuple) and _inert(node, nones | given) and any(_is_none(e, nones) for e in node.elts)


def _inert(node: ast.AST, names: set[str]) -> bool:
    """None, a name (bound to None or passed in), or a tuple or list of those: a value nothing was computed for."""
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_inert(e, names) for e in node.elts)
    return _is_none(node) or (isinstance(node, ast.Name) and node.id in names)


def _is_none(node: ast.AST, names: set[str] = frozenset()) -> bool:
    """None, a name bound to None, or a tuple of those."""
    if isinstance(node, ast.Constant):
        return node.value is None
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Tuple):
        return all(_is_none(e, names) for e in node.elts)
    return False


def of(module: Any, conventions: Iterable[str]) -> Coverage:
    """What ``module`` defines beyond what the checks of ``conventions`` cover."""
    conventions = tuple(conventions)
    if "needle" in conventions:  # a package: its ops and engine functions, wherever in it they are defined
        from gradcheck.checks.needle import ENGINE_FUNCTIONS, NETWORK_OPS, NETWORKS, implemented

        done = implemented(module)
        missing = tuple(name for name, ok in done.items() if not ok)
        # the seed's networks run once everything they are built from is done
        parts = tuple(n for n in NETWORK_OPS + ENGINE_FUNCTIONS if not done.get(n))
        waiting = tuple(n for n, _ in NETWORKS) if parts else ()
        return Coverage(missing + waiting, missing, waiting, parts)
    names = defined(module)
    implemented = {n for n, value in names.items() if not is_stub(value)}
    checked = set().union(*(covered(c, implemented if c in SKIPS_STUBS else names) for c in conventions)) if conventions else set()
    unchecked = tuple(sorted(n for n in names if n not in checked))
    return Coverage(unchecked, tuple(n for n in unchecked if is_stub(names[n])))
