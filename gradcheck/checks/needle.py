"""DLSys hw1: a student's own autodiff, ``needle`` — every op's compute and gradient, and the reverse-mode engine.

Each op is called through the student's module function (``ops.summation(a,
axes=1)``; students change constructor signatures) on needle Tensors built
from float32 values in float64 arrays. Its ``compute`` is compared with an
independent ``jax.numpy`` reference, and its ``gradient`` — called as the
handout's tests call it, ``node.op.gradient_as_tuple(out_grad, node)``, but
with a random ``out_grad`` rather than ones — with ``jax.vjp`` in float64 and
with finite differences of the student's own ``compute``. The gradient must
have its input's shape exactly: one that only broadcasts to it is wrong.
Problems are drawn to make shape bugs show: broadcasting that adds leading
axes and grows axes of size 1, sums over None, an int and a tuple, batched
and broadcast matrix products, three-dimensional transposes.

The engine (``find_topo_sort``, ``compute_gradient_of_variables``) is checked
on graphs made of gradcheck's own ops, subclasses of the student's
``TensorOp`` whose compute and gradient are known, so a wrong op cannot be
mistaken for a wrong engine: a diamond (a node used twice), and a longer
chain that reuses its input at several depths.

Every call into the student's package goes through
:mod:`gradcheck.grader.needle_calls`, which answers with plain arrays: here
in this process, or in the grader's sandbox, where the Tensors stay.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import os
import types
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gradcheck import adapters, diagnose, equations, finite_diff, layer_oracle
from gradcheck.checks.common import YOURS, not_run
from gradcheck.checks.result import RERUN, CheckResult, settle
from gradcheck.compare import BEYOND, Comparison, compare, failed
from gradcheck.grader import needle_calls

ORACLE = "JAX (float64)"
FD = "finite differences of your compute"
MARGIN = 0.05  # ReLU's inputs are drawn at least this far from its kink (Richardson's steps are ≈ 1e-3·|x|)
VJP = equations.Equation("op VJP", "gradient(out_grad, node) = ∂⟨out_grad, op(inputs)⟩/∂inputs, each of its input's shape")
ENGINE = equations.Equation("reverse mode", "x̄ = Σ over every use of x of the VJP of that use, nodes in reverse "
                                            "topological order")


@dataclass(frozen=True)
class Case:
    """One call of an op: its inputs (float64 arrays), how to call it, what JAX computes, and a label."""

    arrays: tuple[np.ndarray, ...]
    reference: Callable[..., Any]  # jax.numpy function of the arrays
    context: str
    args: tuple = ()  # ops.<function>(*Tensors, *args, **kwargs)
    kwargs: dict | None = None
    listed: bool = False  # the first input goes in as a list of Tensors, its slices along axis 0 (stack)
    tupled: bool = False  # the output is a TensorTuple, read as its parts stacked along axis 0 (split)
    step: float | None = None  # finite differences' step, where the inputs' size is not the scale f varies on
    beyond: str | None = None  # why the handout's tests do not ask for this case: its shape mistakes only warn


# (catalog id, the gradients it predicts by input name, the cause and fix in this op's words or None)
Hypothesis = tuple[str, dict[str, np.ndarray], str | None, str | None]


@dataclass(frozen=True)
class Op:
    """An op of hw1 by class name, with the module function that calls it, its problems and its known mistakes."""

    name: str
    function: str
    draw: Callable[[np.random.Generator], list[Case]]
    # (case, out_grad, the right gradients) -> the mistakes worth testing
    mistakes: Callable[[Case, np.ndarray, tuple[np.ndarray, ...]], list[Hypothesis]] = lambda case, g, t: []


def _f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float32).astype(np.float64)


def _normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return _f32(rng.standard_normal(shape))


def _positive(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return _f32(rng.uniform(0.5, 2.0, shape))


def _clear(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Normal values at least MARGIN from 0 (ReLU's kink)."""
    x = rng.standard_normal(shape)
    return _f32(np.where(np.abs(x) < MARGIN, np.sign(x + 1e-12) * (MARGIN + np.abs(x)), x))


def _jnp() -> Any:
    return layer_oracle._np()


def _elementwise(kind: str) -> Callable[[np.random.Generator], list[Case]]:
    def draw(rng: np.random.Generator) -> list[Case]:
        a = _positive(rng, 3, 4) if kind in ("pow", "div") else _normal(rng, 3, 4)
        b = _positive(rng, 3, 4) if kind in ("pow", "div") else _normal(rng, 3, 4)
        reference = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "div": lambda x, y: x / y,
                     "pow": lambda x, y: x ** y}[kind]
        return [Case((a, b), reference, "a 3×4, b 3×4")]
    return draw


def _scalar(kind: str, scalar: float) -> Callable[[np.random.Generator], list[Case]]:
    def draw(rng: np.random.Generator) -> list[Case]:
        a = _normal(rng, 3, 4)
        reference = {"add": lambda x: x + scalar, "mul": lambda x: x * scalar, "div": lambda x: x / scalar,
                     "pow": lambda x: x ** scalar}[kind]
        return [Case((a,), reference, f"a 3×4, scalar {scalar:g}", (scalar,))]
    return draw


def _unary(reference: Callable[[Any], Any], values: Callable[..., np.ndarray]) -> Callable:
    def draw(rng: np.random.Generator) -> list[Case]:
        return [Case((values(rng, 3, 4),), reference, "a 3×4"), Case((values(rng, 2, 3, 2),), reference, "a 2×3×2")]
    return draw


def _transpose_cases(rng: np.random.Generator) -> list[Case]:
    swap = lambda i, j: (lambda x: _jnp().swapaxes(x, i, j))
    return [Case((_normal(rng, 2, 3, 4),), swap(-2, -1), "a 2×3×4, axes None (the last two)"),
            Case((_normal(rng, 2, 3, 4),), swap(0, 2), "a 2×3×4, axes (0, 2)", kwargs={"axes": (0, 2)}),
            Case((_normal(rng, 3, 4),), swap(0, 1), "a 3×4, axes None"),
            # a size repeated: a gradient that swaps the wrong pair keeps the shape and only its values go wrong
            Case((_normal(rng, 4, 3, 4),), swap(0, 2), "a 4×3×4, axes (0, 2)", kwargs={"axes": (0, 2)})]


def _reshape_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((_normal(rng, 2, 3, 4),), lambda x: x.reshape(6, 4), "a 2×3×4 to (6, 4)", ((6, 4),)),
            Case((_normal(rng, 3, 4),), lambda x: x.reshape(2, 1, 6), "a 3×4 to (2, 1, 6)", ((2, 1, 6),))]


def _broadcast_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    # (3, 1) and (1, 3) to (3, 3): summing the wrong axis still gives 3 entries, which reshape without an error
    for shape, to in (((3, 1), (3, 4)), ((1, 4), (3, 4)), ((3, 1), (2, 3, 4)), ((4,), (2, 3, 4)),
                      ((3, 1), (3, 3)), ((1, 3), (3, 3))):
        cases.append(Case((_normal(rng, *shape),), lambda x, to=to: _jnp().broadcast_to(x, to),
                          f"a {'×'.join(map(str, shape))} to {to}", (to,)))
    return cases


def _broadcast_mistakes(case: Case, out_grad: np.ndarray, truth: tuple[np.ndarray, ...]) -> list[Hypothesis]:
    """out_grad summed over any other axes that leave the input's number of entries, reshaped to its shape."""
    shape = case.arrays[0].shape
    found = []
    for k in range(out_grad.ndim + 1):
        for axes in itertools.combinations(range(out_grad.ndim), k):
            summed = out_grad.sum(axis=axes)
            if summed.size == int(np.prod(shape)):
                predicted = summed.reshape(shape)
                if not np.allclose(predicted, truth[0]):
                    found.append(("gradient_wrong_axes", {"a": predicted}, f"BroadcastTo's gradient sums out_grad "
                                  f"over axes {axes}; the broadcast from {shape} to {out_grad.shape} added or grew "
                                  f"{tuple(_broadcast_axes(shape, out_grad.shape))}", None))
    return found


def _broadcast_axes(shape: tuple[int, ...], to: tuple[int, ...]) -> list[int]:
    """The axes of ``to`` a broadcast from ``shape`` adds (leading) or grows (size 1 in ``shape``)."""
    lead = len(to) - len(shape)
    return list(range(lead)) + [lead + i for i, n in enumerate(shape) if n == 1 and to[lead + i] != 1]


def _summation_mistakes(case: Case, out_grad: np.ndarray, truth: tuple[np.ndarray, ...]) -> list[Hypothesis]:
    """out_grad given its 1s at other axes than the summed ones, then broadcast to the input's shape: at the leading
    axes is broadcasting without reshaping (numpy aligns from the right)."""
    shape = case.arrays[0].shape
    axes = (case.kwargs or {}).get("axes")
    summed = tuple(range(len(shape))) if axes is None else (axes,) if isinstance(axes, int) else tuple(axes)
    found = []
    for ones in itertools.combinations(range(len(shape)), len(summed)):
        if ones == tuple(sorted(a % len(shape) for a in summed)):
            continue
        kept = iter(out_grad.shape)
        placed = tuple(1 if i in ones else next(kept) for i in range(len(shape)))
        try:
            predicted = np.broadcast_to(out_grad.reshape(placed), shape)
        except ValueError:
            continue
        bug = "summation_not_reshaped" if ones == tuple(range(len(summed))) else "gradient_wrong_axes"
        found.append((bug, {"a": predicted}, None if bug == "summation_not_reshaped" else
                      f"Summation's gradient puts out_grad's 1s back at axes {ones}, not at the summed axes {summed}",
                      None))
    return found


INT_AXES = ("hw1's own tests pass Summation's axes as None or a tuple; an int, which numpy's sum takes, comes in "
            "later homework")


def _summation_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    # 3×3 and 2×3×2: out_grad put back along the wrong axis still broadcasts, with the wrong values
    for shape, axes in (((3, 4), None), ((3, 4), 1), ((2, 3, 4), (0, 2)), ((2, 3, 4), (1,)), ((3, 3), (0,)),
                        ((2, 3, 2), (2,))):
        cases.append(Case((_normal(rng, *shape),), lambda x, axes=axes: _jnp().sum(x, axis=axes),
                          f"a {'×'.join(map(str, shape))}, axes {axes}", kwargs={"axes": axes},
                          beyond=INT_AXES if isinstance(axes, int) else None))
    return cases


BATCH_OF_ONE = ("hw1's tests never broadcast a batch axis of size 1; numpy's matmul does, and a model that "
                "multiplies a batch of one by a stack of matrices needs it")


def _matmul_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for a, b in (((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)),
                 ((3, 3), (3, 3)), ((2, 3, 3), (3, 3)),  # square: a gradient missing a transpose keeps its shape
                 ((2, 3, 4), (1, 4, 5)), ((1, 3, 4), (2, 4, 5))):  # a batch axis of size 1 broadcast, either side
        cases.append(Case((_normal(rng, *a), _normal(rng, *b)), lambda x, y: x @ y,
                          f"a {'×'.join(map(str, a))}, b {'×'.join(map(str, b))}",
                          beyond=BATCH_OF_ONE if 1 in a[:-2] + b[:-2] else None))
    return cases


def _sign(op: str, which: str, formula: str) -> Callable[..., list[Hypothesis]]:
    index = "ab".index(which)
    return lambda case, g, t: [("gradient_sign_flipped", {which: -t[index]}, f"{op}'s gradient for {which} has the wrong sign",
                                formula)]


def _logsumexp_cases(rng: np.random.Generator) -> list[Case]:
    """Axes a tuple, several, or None; and logits near 800, where exp overflows unless the max is taken out first
    (hw2 asks for the numerically stable form)."""
    lse = layer_oracle._jax().scipy.special.logsumexp
    cases = []
    for shape, axes, shift in (((3, 4), (1,), 0.0), ((2, 3, 4), (0, 2), 0.0), ((3, 4), None, 0.0), ((3, 4), (1,), 800.0)):
        # LogSumExp(x + c) = LogSumExp(x) + c varies on the scale of x − max x, not of |x| ≈ 800, where the usual
        # step ε^{1/5}·|x| ≈ 0.6 would cross most of a softmax: near 800 the step is that of |x| ≈ 1, as a power
        # of two (2⁻¹¹ ≈ ε^{1/5}) so that x ± h, h/2, h/4 are exact
        cases.append(Case((_normal(rng, *shape) + shift,), lambda x, axes=axes: lse(x, axis=axes),
                          f"a {'×'.join(map(str, shape))}{' near 800' if shift else ''}, axes {axes}",
                          kwargs={"axes": axes}, step=2.0 ** -11 if shift else None))
    return cases


def _stack_cases(rng: np.random.Generator) -> list[Case]:
    """stack(args, axis) of three 2×4 Tensors: a new first, middle and last axis. The Tensors are the slices of one
    array along axis 0, and their gradients are read stacked the same way."""
    jnp = _jnp()
    return [Case((_normal(rng, 3, 2, 4),), lambda A, axis=axis: jnp.stack([A[k] for k in range(3)], axis=axis),
                 f"three 2×4 Tensors, axis {axis}", (axis,), listed=True) for axis in (0, 1, 2)]


def _split_cases(rng: np.random.Generator) -> list[Case]:
    """split(a, axis) of a 3×2×4 along each axis: a TensorTuple, read as its parts stacked along a new axis 0."""
    jnp = _jnp()
    return [Case((_normal(rng, 3, 2, 4),), lambda A, axis=axis: jnp.stack([jnp.take(A, k, axis=axis)
                                                                          for k in range(A.shape[axis])]),
                 f"a 3×2×4, axis {axis}", (axis,), tupled=True) for axis in (0, 1, 2)]


OPS: tuple[Op, ...] = (
    Op("EWiseAdd", "add", _elementwise("add")),
    Op("AddScalar", "add_scalar", _scalar("add", 1.5)),
    Op("EWiseMul", "multiply", _elementwise("mul")),
    Op("MulScalar", "mul_scalar", _scalar("mul", -1.5)),
    Op("PowerScalar", "power_scalar", _scalar("pow", 3),  # not 0: its gradient is then 0 either way
       lambda case, g, t: [("power_exponent_factor_missing", {"a": t[0] / 3}, None, None),
                           ("power_exponent_not_lowered", {"a": g * 3 * case.arrays[0] ** 3}, None, None),
                           ("power_of_out_grad", {"a": 3 * g ** 2}, None, None)]),
    Op("EWisePow", "power", _elementwise("pow")),
    Op("EWiseDiv", "divide", _elementwise("div"), _sign("EWiseDiv", "b", "∂(a/b)/∂b = −a/b²: -out_grad * a / b ** 2")),
    Op("DivScalar", "divide_scalar", _scalar("div", 2.5)),
    Op("Transpose", "transpose", _transpose_cases,
       lambda case, g, t: [("transpose_gradient_reshaped", {"a": g.reshape(case.arrays[0].shape)}, None, None)]),
    Op("Reshape", "reshape", _reshape_cases),
    Op("BroadcastTo", "broadcast_to", _broadcast_cases, _broadcast_mistakes),
    Op("Summation", "summation", _summation_cases, _summation_mistakes),
    Op("MatMul", "matmul", _matmul_cases),
    Op("Negate", "negate", _unary(lambda x: -x, _normal), _sign("Negate", "a", "negate(out_grad)")),
    Op("Log", "log", _unary(lambda x: _jnp().log(x), _positive),
       lambda case, g, t: [("log_gradient_of_output", {"a": g / np.log(case.arrays[0])}, None, None)]),
    Op("Exp", "exp", _unary(lambda x: _jnp().exp(x), _normal)),
    Op("ReLU", "relu", _unary(lambda x: _jnp().maximum(x, 0.0), _clear)),
    # hw2's, checked when the package defines them
    Op("Tanh", "tanh", _unary(lambda x: _jnp().tanh(x), _normal)),
    Op("LogSumExp", "logsumexp", _logsumexp_cases),
    Op("Stack", "stack", _stack_cases),
    Op("Split", "split", _split_cases),
)
ENGINE_FUNCTIONS = ("find_topo_sort", "compute_gradient_of_variables")


def _inventory(calls: Any) -> dict:
    return calls.inventory([op.name for op in OPS], list(ENGINE_FUNCTIONS))


def present(module: Any) -> bool:
    """Whether ``module`` is a needle package: ``ops`` and an ``autograd`` with ``Tensor`` and ``TensorOp``."""
    return bool(needle_calls.inventory(module, (), ())["present"])


def _implemented(found: dict) -> dict[str, bool]:
    from gradcheck.coverage import is_stub_source

    done = {}
    for name, methods in found["ops"].items():  # a method whose source cannot be read is never called a stub
        done[name] = not any(m is False or (isinstance(m, str) and is_stub_source(m)) for m in methods.values())
    for name, source in found["engine"].items():
        done[name] = not (isinstance(source, str) and is_stub_source(source))
    return done


def implemented(module: Any) -> dict[str, bool]:
    """Every op and engine function of hw1 the package defines, and whether it is more than the handout's stub."""
    return _implemented(_inventory(needle_calls.Calls(module)))


def _handouts_own_pow(source: Any) -> bool:
    """Whether EWisePow.gradient is the 2023 handout's given code, which raises on every call (courses.md)."""
    return isinstance(source, str) and "isinstance(node.inputs[0], NDArray)" in source and "raise ValueError" in source


def _read(calls: Any, value: Any, what: str) -> np.ndarray | str:
    """A Tensor's (or an array's) values as float64, or why they cannot be read."""
    try:
        data = calls.values(value)
    except Exception as exc:
        return f"reading {what} raised {adapters.describe_exception(exc)}"
    got = adapters.as_float_array(data)
    return f"{what} is {got}" if isinstance(got, str) else got


def _reference(case: Case, rng: np.random.Generator,
               cotangent: Callable | None = None) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """JAX's output of the op, a random out_grad of its shape (or ``cotangent(shape)``), and the VJP of every input
    for it (float64). Run op by op, not compiled: each case is small and run once.
    """
    jax = layer_oracle._jax()
    out, back = jax.vjp(case.reference, *(np.asarray(a, np.float64) for a in case.arrays))
    out_grad = cotangent(np.shape(out)) if cotangent else _f32(rng.standard_normal(np.shape(out)))
    return np.asarray(out), (out_grad, *(np.asarray(g) for g in back(np.asarray(out_grad, np.float64))))


def _op_records(calls: Any, op: Op, case: Case, rng: np.random.Generator, seed: int,
                undone: tuple[str, ...] = ()) -> tuple[list[Comparison], tuple | None]:
    """One case of one op: compute against JAX, gradient against jax.vjp and differences of compute.

    ``undone`` are the package's ops still stubs: a gradient that stops in one of their computes has not been
    judged yet. Returns the records and what naming the mistake needs (None when the gradient gave nothing to test).
    """
    ctx = dict(problem=f"{op.name}: {case.context}", seed=seed)
    expected, truth = _reference(case, rng)
    names = ("a", "b")[:len(case.arrays)]
    try:
        node = calls.apply(op.function, list(case.arrays), list(case.args), dict(case.kwargs or {}), case.listed)
    except Exception as exc:
        why = f"your {op.function}(…) raised {adapters.describe_exception(exc)}"
        found = (diagnose.known("summation_int_axes", f"{case.context}: {adapters.describe_exception(exc)[:120]}")
                 if op.name == "Summation" and "'int'" in why and "axes 1" in case.context else None)
        record = _beyond(case, diagnose.with_diagnosis(failed(f"{op.name} out", expected.shape, why,
                                                              witnesses=(YOURS, ORACLE), **ctx), found))
        if record.finding == BEYOND:  # a case the handout does not ask for: its gradients go unasked too
            return [record], None
        return [record] + [
            not_run(f"{op.name} gradient {n}", a.shape, f"{op.name} gave no node to go back through", ctx, ORACLE)
            for n, a in zip(names, case.arrays)], None
    out = _read(calls, node, f"{op.function}(…)'s output")
    records = [failed(f"{op.name} out", expected.shape, out, witnesses=(YOURS, ORACLE), **ctx) if isinstance(out, str)
               else compare(out, expected, tensor=f"{op.name} out", witnesses=(YOURS, ORACLE), **ctx)]
    shape = case.arrays[0].shape
    if op.name == "Transpose" and records[0].failed and np.shape(out) == shape[::-1] != expected.shape:
        records[0] = diagnose.with_diagnosis(records[0], diagnose.known(
            "transpose_all_axes", f"on a {'×'.join(map(str, case.arrays[0].shape))} input your output has shape "
                                  f"{np.shape(out)}, every axis reversed"))
    out_grad, truth = truth[0], truth[1:]
    try:
        given = tuple(calls.gradient(node, out_grad, case.tupled))
    except Exception as exc:
        said = adapters.describe_exception(exc)
        why = f"your {op.name}.gradient raised {said}"
        if said.startswith("NotImplementedError") and " in compute" in said and undone:  # not its own code
            why = (f"your {op.name}.gradient calls an op that is not implemented yet ({', '.join(undone)} "
                   f"{'is' if len(undone) == 1 else 'are'} still the handout stub): {said}")
            return records + [not_run(f"{op.name} gradient {n}", t.shape, why, ctx, ORACLE)
                              for n, t in zip(names, truth)], None
        found = (_broadcast_error(said, case, out_grad) if op.name == "Summation" and "broadcast" in why
                 else _reshape_error(said, case)
                 if "reshape" in said else diagnose.known("summation_int_axes", f"{case.context}: {said[:120]}")
                 if op.name == "Summation" and "'int'" in why and "axes 1" in case.context else None)
        return records + [_beyond(case, diagnose.with_diagnosis(failed(
            f"{op.name} gradient {n}", t.shape, why, witnesses=(YOURS, ORACLE), equation=VJP, **ctx), found))
            for n, t in zip(names, truth)], None
    if len(given) != len(case.arrays):
        why = f"your {op.name}.gradient returned {len(given)} gradients for {len(case.arrays)} inputs"
        return records + [failed(f"{op.name} gradient {n}", t.shape, why, witnesses=(YOURS, ORACLE), equation=VJP, **ctx)
                          for n, t in zip(names, truth)], None
    forward_failed = records[0].failed
    start, grads = len(records), {}
    for i, (n, g, t) in enumerate(zip(names, given, truth)):
        got = _read(calls, g, f"{op.name}.gradient's {n}")
        label = f"{op.name} gradient {n}"
        if isinstance(got, str):
            records.append(failed(label, t.shape, got, witnesses=(YOURS, ORACLE), equation=VJP, **ctx))
            continue
        grads[n] = got
        judged = [compare(got, t, tensor=label, witnesses=(YOURS, ORACLE), equation=VJP, **ctx)]
        if not forward_failed:  # differences of a wrong compute say nothing about the gradient
            judged += _differences(calls, node, case, i, out_grad, got, label, ctx)
        reduced = _reduced(got, t.shape)
        if reduced is not None and judged[0].failed and np.allclose(reduced, t, rtol=1e-6, atol=1e-9 * np.max(np.abs(t))):
            found = diagnose.known("gradient_not_reduced", f"your gradient of {n} has shape {got.shape}; summed over the "
                                                           f"broadcast axes it is the right gradient of shape {t.shape}")
            judged = [diagnose.with_diagnosis(r, found) if r.failed else r for r in judged]
        elif judged[0].failed and got.shape != t.shape and _without_ones(got.shape) == _without_ones(t.shape) and \
                np.allclose(got.reshape(t.shape), t, rtol=1e-6, atol=1e-9 * np.max(np.abs(t))):
            found = diagnose.known("reduced_axis_dropped", f"your gradient of {n} has shape {got.shape}; reshaped to "
                                                           f"{t.shape} it is the right gradient")
            judged = [diagnose.with_diagnosis(r, found) if r.failed else r for r in judged]
        records += [_beyond(case, r) for r in judged]
    failing = any(r.failed for r in records[start:])
    if records[0].bug == "transpose_all_axes":  # the gradient transposes back with the same compute
        records = [diagnose.with_diagnosis(r, diagnose.known("transpose_all_axes", "your gradient goes back through "
                                                             "the same Transpose")) if r.failed and r.bug is None else r
                   for r in records]
    return records, (case, out_grad, grads, dict(zip(names, truth)), failing, start, len(records))


def _without_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for n in shape if n != 1)


def _reshape_error(said: str, case: Case) -> diagnose.Diagnosis | None:
    """A gradient that failed reshaping to an input's shape: too many entries is not summed over the broadcast
    axes, too few is summed over axes the forward did not broadcast (numpy: "cannot reshape array of size N into
    shape (…)")."""
    found = re.search(r"array of size (\d+) into shape \(([\d, ]*)\)", said)
    if not found:
        return None
    size, into = int(found[1]), tuple(int(n) for n in found[2].replace(" ", "").split(",") if n)
    if not any(a.shape == into for a in case.arrays) or size == int(np.prod(into)):
        return None
    bug = "gradient_not_reduced" if size > int(np.prod(into)) else "gradient_wrong_axes"
    return diagnose.known(bug, f"your gradient has {size} entries where the input of shape {into} has "
                               f"{int(np.prod(into))}: reshaping it failed ({case.context})")


def _broadcast_error(said: str, case: Case, out_grad: np.ndarray) -> diagnose.Diagnosis:
    """Summation's gradient failed broadcasting to its input's shape: out_grad as it came (never reshaped), or
    reshaped with its 1s at other axes than the summed ones (numpy: "… remapped shapes …: (2,4,1) and requested
    shape (2,3,4)")."""
    shape = case.arrays[0].shape
    found = re.search(r": \(([\d, ]*)\)\s+and requested shape", said)
    given = tuple(int(n) for n in found[1].replace(" ", "").split(",") if n) if found else out_grad.shape
    if len(given) == len(shape) != out_grad.ndim:
        return diagnose.known("gradient_wrong_axes", f"out_grad of shape {out_grad.shape}, reshaped to {given}, does "
                                                     f"not broadcast to {shape}: {case.context}")
    return diagnose.known("summation_not_reshaped", f"broadcasting out_grad of shape {given} to {shape} failed: "
                                                    f"{case.context}")


BEYOND_BUGS = ("gradient_not_reduced", "reduced_axis_dropped", "summation_int_axes")  # a shape or a type, not a value


def _beyond(case: Case, record: Comparison) -> Comparison:
    """A shape mistake in a case the handout's tests do not ask for: a warning that says why, not a failure."""
    if case.beyond and record.failed and record.bug in BEYOND_BUGS:
        return dataclasses.replace(record, finding=BEYOND, note=f"{record.note or 'wrong'} ({case.beyond})")
    return record


def _reduced(got: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``got`` summed over the axes a broadcast to its shape would have added or grown, if that gives ``shape``."""
    lead = got.ndim - len(shape)
    if got.shape == tuple(shape) or lead < 0:
        return None
    summed = got.sum(axis=tuple(range(lead)))
    grown = tuple(i for i, (have, want) in enumerate(zip(summed.shape, shape)) if want == 1 and have != 1)
    summed = summed.sum(axis=grown, keepdims=True) if grown else summed
    return summed if summed.shape == tuple(shape) else None


def _diagnosed(op: Op, records: list[Comparison], pending: list[tuple]) -> list[Comparison]:
    """Name the mistake behind an op's failing gradients, from all of its cases together."""
    if not any(p[4] for p in pending):
        return records
    trials = []
    for case, out_grad, given, truth, failing, _, _ in pending:
        hypotheses = [(bug, lambda bug=bug, cause=cause, fix=fix: diagnose.Diagnosis(
                           diagnose.CATALOG[bug], f"recomputing {op.name}'s gradient with this mistake reproduces yours",
                           cause, fix), predicted)
                      for bug, predicted, cause, fix in op.mistakes(case, out_grad, tuple(truth.values()))]
        # the handout's own check feeds an all-ones out_grad, so a gradient that ignores it passes there
        ones = dict(zip(truth, _reference(case, np.random.default_rng(0), np.ones)[1][1:]))
        for which in [tuple(truth), *((n,) for n in truth)] if len(truth) > 1 else [tuple(truth)]:  # all, or one
            hypotheses.append(("out_grad_ignored", lambda which=which: diagnose.known(
                "out_grad_ignored", f"{op.name}'s gradient of {', '.join(which)} for an all-ones out_grad reproduces "
                                    f"yours"), {n: ones[n] for n in which}))
        trials.append(diagnose.trial(hypotheses, given, truth, failing))
    for (_, _, _, _, failing, start, stop), found in zip(pending, diagnose.settle(trials)):
        if failing and found is not None and found.bug is not None:
            records[start:stop] = [diagnose.with_diagnosis(r, found) if r.failed and r.bug is None else r
                                   for r in records[start:stop]]
    return records


def _differences(calls: Any, node: Any, case: Case, i: int, out_grad: np.ndarray, got: np.ndarray,
                 label: str, ctx: dict) -> list[Comparison]:
    """``got`` against central differences of ⟨out_grad, op.compute(…)⟩ in input ``i``, entry by entry."""
    arrays = case.arrays

    def compute(x: np.ndarray) -> np.ndarray:  # the op's compute on copies of the inputs, x in place of input i
        return np.asarray(calls.compute(node, [*arrays[:i], x, *arrays[i + 1:]], case.listed), np.float64)

    try:
        # f = ⟨out_grad, out⟩ + 4A, A = Σ|out_grad·out|, the pairing summed by math.fsum (rounded once). Each term
        # carries ≤ ε|term| (the op's rounding of its output entry, then the product), so f is off by ≤ ε·A + ε/2·A
        # + ε/2·|f| ≤ |f|·ε, since |f| ≥ 3A. Finding kinks from f alone assumes f within ~1.6 ε|f|
        # (finite_diff._kinked); without the offset, a pairing that cancels towards 0 looks kinked by its rounding.
        offset = 4 * math.fsum(np.abs(out_grad * compute(arrays[i])).ravel())
        with np.errstate(all="ignore"):
            estimate = finite_diff.gradient(lambda x: math.fsum((compute(x) * out_grad).ravel()) + offset, arrays[i],
                                            method="richardson", truncation=True, step=case.step)
    except Exception as exc:
        return [failed(label, arrays[i].shape, f"{FD} failed: {adapters.describe_exception(exc)}", witnesses=(FD, ORACLE),
                       **ctx)]
    if got.shape != arrays[i].shape:
        return []  # the oracle's record says the shape is wrong
    return [compare(got, estimate.values, tensor=label, witnesses=(YOURS, FD), uncertainty=estimate.error,
                    checkable=estimate.checkable, not_checkable_reason=estimate.reason, equation=VJP, **ctx)]


# ---------------------------------------------------------------------------
# The engine, on known ops (needle_calls.reference_ops)


def _chain(x: Any) -> Any:
    jnp, h = _jnp(), x
    for _ in range(3):
        h = jnp.sin(h) + 0.5 * x
    return h * h


# (graph in needle_calls.GRAPHS, description, the same function in jax.numpy)
GRAPHS = (("diamond", "a diamond: s = sin x, out = s · 2s", lambda x: _jnp().sin(x) * 2 * _jnp().sin(x)),
          ("chain", "a chain reusing x at three depths: h ← sin h + x/2, out = h²", _chain))


def _engine_records(calls: Any, run: set[str], rng: np.random.Generator, seed: int) -> list[Comparison]:
    records: list[Comparison] = []
    for name, description, reference in GRAPHS:
        ctx = dict(problem=f"engine: {description}", seed=seed)
        x0 = _normal(rng, 3, 2)
        out_grad = _f32(rng.standard_normal(x0.shape))
        try:
            x, out = calls.graph(name, x0)
        except Exception as exc:
            why = f"building the graph with your Tensor and TensorOp raised {adapters.describe_exception(exc)}"
            return records + [failed("engine", x0.shape, why, witnesses=(YOURS, ORACLE), **ctx)]
        sort = _topo_record(calls, [out], ctx)
        if "find_topo_sort" in run:  # a list of outputs: the sort must start from every one of them
            _, second = calls.graph("second", x)
            records.append(_topo_record(calls, [out, second], dict(ctx, problem=ctx["problem"] + ", and a second "
                                                                  "output 3 sin x")))
            records.append(sort)
        if "compute_gradient_of_variables" in run:
            truth = np.asarray(layer_oracle._jax().vjp(reference, x0)[1](out_grad)[0])
            label = "compute_gradient_of_variables x.grad"
            try:  # on the graph itself: the gradients land in its leaves' .grad
                grad = calls.backward(out, x, out_grad)
                got = "x.grad was not set" if grad is None else _read(calls, grad, "x.grad")
            except Exception as exc:
                got = f"your compute_gradient_of_variables raised {adapters.describe_exception(exc)}"
            record = (failed(label, x0.shape, got, witnesses=(YOURS, ORACLE), equation=ENGINE, **ctx) if isinstance(got, str)
                      else compare(got, truth, tensor=label, witnesses=(YOURS, ORACLE), equation=ENGINE, **ctx))
            if record.failed:
                record = diagnose.with_diagnosis(record, _engine_diagnosis(calls, sort, got, (name, x0, out, out_grad),
                                                                           truth))
            records.append(record)
    return records


def _engine_diagnosis(calls: Any, sort: Comparison, got: Any, problem: tuple, truth: np.ndarray) -> diagnose.Diagnosis | None:
    """Why x.grad is wrong: the sort it follows, the order it walks, or one use of x kept instead of the sum of all.

    ``problem`` is (graph name, x's values, the graph's output, out_grad).
    """
    name, x0, out, out_grad = problem
    if sort.bug in SORT_BUGS:
        return diagnose.known(sort.bug, "compute_gradient_of_variables follows your find_topo_sort")
    if isinstance(got, str) and "'Tensor' object is not iterable" in got:
        return diagnose.known("engine_gradient_not_tuple", "zipping an op's gradient with its inputs raised: "
                              + got.split(" raised ", 1)[-1][:160])
    if sort.passed:  # an experiment: the same engine, given the sort reversed
        try:
            grad = calls.backward_reversed_sort(name, x0, out_grad)
            walked = "" if grad is None else _read(calls, grad, "x.grad")
        except Exception:
            walked = ""
        if not isinstance(walked, str) and compare(walked, truth, tensor="x.grad").passed:
            return diagnose.known("engine_order_not_reversed", "given find_topo_sort's order reversed, your "
                                                               "compute_gradient_of_variables gets x.grad right")
    if isinstance(got, str):
        return None
    try:
        kept = adapters.as_float_array(calls.backprop(out, out_grad, False))
    except Exception:  # the hypothesis needs the student's Tensor machinery, which may be what failed
        return None
    if not isinstance(kept, str) and kept.shape == got.shape and np.allclose(got, kept, rtol=1e-8, atol=1e-12):
        return diagnose.known("gradients_not_accumulated", "backprop that keeps the last contribution of every node "
                                                           "reproduces your x.grad")
    return None


def _topo_record(calls: Any, roots: list[Any], ctx: dict) -> Comparison:
    """find_topo_sort(roots): every node reachable from any root once, each after its inputs, a lone root last."""
    label = "find_topo_sort order"
    try:
        found = calls.topo_sort(roots)
    except Exception as exc:
        return failed(label, (), f"your find_topo_sort raised {adapters.describe_exception(exc)}",
                      witnesses=(YOURS, "the graph"), **ctx)
    inputs, order, (*_, last) = found["inputs"], found["order"], found["roots"]
    position: dict[int, int] = {}
    problems = []
    for k, node in enumerate(order):
        if node in position:
            problems.append("a node appears twice")
        position.setdefault(node, k)
    if set(range(len(inputs))) != set(position):
        problems.append(f"it holds {len(position)} distinct nodes; the graph has {len(inputs)}")
    if any(p in position and n in position and position[p] > position[n] for n in range(len(inputs)) for p in inputs[n]):
        problems.append("a node comes before one of its inputs")
    if len(roots) == 1 and (not order or order[-1] != last):
        problems.append("the output is not last")
    if problems:
        listed = "[out]" if len(roots) == 1 else f"[{', '.join(f'out{i + 1}' for i in range(len(roots)))}]"
        record = failed(label, (len(inputs),), f"find_topo_sort({listed}) is not a topological order of the graph: "
                        + "; ".join(dict.fromkeys(problems)), witnesses=(YOURS, "the graph"), equation=ENGINE, **ctx)
        twice = len(order) - len(position)
        if twice:
            return diagnose.with_diagnosis(record, diagnose.known(
                "topo_sort_duplicates", f"{twice} of the {len(order)} nodes it lists are listed before"))
        if _topological(inputs, order[::-1]):
            return diagnose.with_diagnosis(record, diagnose.known(
                "topo_sort_reversed", "read backwards, your order is a topological order of the graph"))
        if order == _preorder(inputs, found["roots"]):
            return diagnose.with_diagnosis(record, diagnose.known(
                "topo_sort_preorder", "a depth-first search that lists each node before its inputs gives your order"))
        first = _preorder(inputs, found["roots"][:1])  # the nodes the first output reaches
        if len(roots) > 1 and set(order) == set(first) and _topological(
                [[first.index(p) for p in inputs[n]] for n in first], [first.index(n) for n in order]):
            return diagnose.with_diagnosis(record, diagnose.known(
                "topo_sort_first_output_only", f"your order holds exactly the {len(first)} nodes out1 reaches, in a "
                                               f"topological order"))
        return record
    return compare(np.arange(len(order), dtype=float), np.arange(len(inputs), dtype=float), tensor=label,
                   witnesses=(YOURS, "the graph"), equation=ENGINE, **ctx)


SORT_BUGS = ("topo_sort_duplicates", "topo_sort_reversed", "topo_sort_preorder")


def _topological(inputs: list[list[int]], order: list[int]) -> bool:
    """Whether ``order`` lists every node of the graph once, each after its inputs."""
    position = {node: k for k, node in enumerate(order)}
    return (len(position) == len(order) and set(position) == set(range(len(inputs)))
            and all(position[p] < position[n] for n in range(len(inputs)) for p in inputs[n]))


def _preorder(inputs: list[list[int]], roots: list[int]) -> list[int]:
    """The depth-first order that lists a node, then its inputs in turn (the post-order's mistake)."""
    order: list[int] = []

    def visit(node: int) -> None:
        if node not in order:
            order.append(node)
            for parent in inputs[node]:
                visit(parent)

    for root in roots:
        visit(root)
    return order


# ---------------------------------------------------------------------------
# hw1's apps/simple_ml.py: hw0's softmax_loss and nn_epoch again, with needle Tensors


def flavoured(module: Any) -> needle_calls.Calls | None:
    """The calls that run ``module``'s functions written with needle Tensors (``import needle as ndl``), or None.

    A module in the grader's sandbox brings its own (``module.needle_calls``), when the sandbox found needle there.
    """
    remote = getattr(module, "needle_calls", None)
    if isinstance(remote, needle_calls.Calls):
        return remote
    return needle_calls.Calls(module) if isinstance(module, types.ModuleType) and needle_calls.flavoured(module) else None


def _as_array(got: Any, what: str) -> np.ndarray:
    array = adapters.as_float_array(got)
    if isinstance(array, str):
        raise adapters.Described(f"{what} {array}")
    return array


def loss_adapter(name: str, calls: needle_calls.Calls) -> Callable:
    """hw1's ``softmax_loss(Z, y_one_hot)`` on Tensors, as hw0's ``softmax_loss(Z, y) -> float`` on arrays."""
    def softmax_loss(Z: np.ndarray, y: np.ndarray) -> Any:
        Y = np.zeros(Z.shape, Z.dtype)
        Y[np.arange(len(y)), y] = 1
        return _as_array(calls.softmax_loss(name, Z, Y), f"{name}'s loss")

    softmax_loss.__name__ = softmax_loss.__qualname__ = name
    return softmax_loss


def epoch_adapter(name: str, calls: needle_calls.Calls) -> Callable:
    """hw1's ``nn_epoch(X, y, W1, W2, lr, batch) -> (W1, W2)`` on Tensors, as hw0's, which updates its arrays."""
    def nn_epoch(X: np.ndarray, y: np.ndarray, W1: np.ndarray, W2: np.ndarray, lr: float = 0.1, batch: int = 100) -> None:
        out = calls.nn_epoch(name, X, y, W1, W2, lr, batch)
        if isinstance(out, str):
            raise adapters.Described(f"hw1's {name} returns the new (W1, W2) Tensors; yours returned {out}")
        for label, old, new in zip(("W1", "W2"), (W1, W2), out):
            got = _as_array(new, f"the {label} it returned")
            if got.shape != old.shape:
                raise adapters.Described(f"the {label} it returned has shape {got.shape}, not {old.shape}")
            old[...] = got

    nn_epoch.__name__ = nn_epoch.__qualname__ = name
    nn_epoch.contract = ("must return the updated (W1, W2) as new Tensors, e.g. W1 = ndl.Tensor(W1.numpy() - lr * "  # type: ignore[attr-defined]
                         "W1.grad.numpy()), after loss.backward() on each minibatch")
    return nn_epoch


# ---------------------------------------------------------------------------
# The seed's networks, built from the student's own ops and differentiated by their own engine

NETWORKS = (("two_layer_net", (5, 6, 3)), ("three_layer_net", (5, 6, 4, 3)))  # relu(XW₁)W₂ (Eqs. 10, 11); Eqs. 14, 15
NETWORK_OPS = ("MatMul", "ReLU", "Exp", "Log", "Summation", "EWiseMul", "EWiseAdd", "Negate", "DivScalar")


def _network_records(calls: Any, seed: int, undone: tuple[str, ...] = ()) -> list[Comparison]:
    """The seed's ReLU networks with softmax loss, written with the student's ops; W.grad by their backward()."""
    from gradcheck import problems, witnesses
    from reference_mlp.loss import one_hot
    from reference_mlp.mlp import Architecture

    records: list[Comparison] = []
    for name, widths in NETWORKS:
        problem = problems.draw(Architecture.build(widths, "relu"), m=8, seed=seed)
        truths = (("closed form", witnesses.closed_form(problem)), (ORACLE, witnesses.jax_autodiff(problem)))
        truth = truths[0][1]
        depth = len(widths) - 1
        ctx = dict(problem=f"{name}: {problem.describe()}, softmax loss from your ops, loss.backward()", seed=seed)
        try:
            grads = list(calls.network(list(problem.params.W), problem.X, one_hot(problem.y, widths[-1])))
        except Exception as exc:
            said = adapters.describe_exception(exc)
            why = f"the network built from your ops raised {said}"
            if said.startswith("NotImplementedError") and " in compute" in said and undone:  # a gradient waiting
                records += [not_run(f"{name} W{i}", W.shape, f"{why}: a gradient it goes back through calls an op "
                                    f"that is not implemented yet", ctx, "closed form")
                            for i, W in enumerate(problem.params.W, start=1)]
                continue
            records += [failed(f"{name} W{i}", W.shape, why, witnesses=(YOURS, "closed form"), **ctx)
                        for i, W in enumerate(problem.params.W, start=1)]
            continue
        for i, grad in enumerate(grads, start=1):
            got = f"W{i}.grad was not set" if grad is None else _read(calls, grad, f"W{i}.grad")
            equation = (equations.EQ11 if i == 1 else equations.EQ10) if depth == 2 else equations.eq15(i)
            label = f"{name} W{i}"
            if isinstance(got, str):
                records.append(failed(label, truth[f"W{i}"].shape, got, witnesses=(YOURS, "closed form"),
                                      equation=equation, **ctx))
                continue
            records += [compare(got, t[f"W{i}"], tensor=label, witnesses=(YOURS, witness), equation=equation, **ctx)
                        for witness, t in truths]
    return records


def _built_from(networks: list[Comparison], parts: list[Comparison]) -> list[Comparison]:
    """The networks' failures, pointed at the ops and engine functions they are built from that fail too."""
    failing = list(dict.fromkeys(c.tensor.split()[0] for c in parts if c.failed
                                 and c.tensor.split()[0] in NETWORK_OPS + ENGINE_FUNCTIONS))
    if not failing:
        return networks
    found = diagnose.known("built_from_failing_parts", f"{', '.join(failing)} {'fails' if len(failing) == 1 else 'fail'}"
                                                       " on its own problems")
    return [diagnose.with_diagnosis(c, found) if c.failed and c.bug is None else c for c in networks]


HW2 = ("Tanh", "LogSumExp", "Stack", "Split")  # checked where a package defines them
HW1 = tuple(op.name for op in OPS if op.name not in ("EWisePow", *HW2)) + ENGINE_FUNCTIONS  # EWisePow is optional


def check_needle(module: Any, *, seed: int = 0, require_stability: bool = False,
                 require: tuple[str, ...] = ()) -> CheckResult:
    """Check every op of hw1 a needle package implements, then its reverse-mode engine on known ops.

    ``module`` is the imported ``needle`` package, the path of a hw1 checkout (its root, its ``python``
    folder or the ``needle`` folder), or the package's calls in a grader's sandbox
    (:class:`gradcheck.grader.needle_calls.Calls`). Ops and engine functions named in ``require``
    (e.g. :data:`HW1`, when grading) fail when they are missing or still the handout's stub.
    """
    if isinstance(module, (str, os.PathLike)):
        module, _ = adapters.load(os.fspath(module))
    calls = module if isinstance(module, needle_calls.Calls) else needle_calls.Calls(module)
    found = _inventory(calls)
    if not found["present"]:
        raise adapters.LoadError(f"{found['name']!r} is not a needle package: it needs ops and an autograd module "
                                 f"with Tensor and TensorOp")
    done = _implemented(found)
    results: list[Comparison] = [
        failed(f"{name} not implemented", (), f"{name} is {'still the handout stub' if name in done else 'missing'}: "
               "this assignment asks for it", witnesses=(YOURS, ORACLE), seed=seed)
        for name in require if not done.get(name)]
    unsupported = []
    undone = tuple(name for name, ok in done.items() if not ok and name not in ENGINE_FUNCTIONS)
    for op in OPS:
        if not done.get(op.name):
            continue
        if op.name == "EWisePow" and _handouts_own_pow(found["ops"]["EWisePow"].get("gradient")):
            unsupported.append("EWisePow: its gradient is the 2023 handout's own, which raises ValueError because "
                               "it tests for NDArray inputs while they are Tensors; there is nothing of yours to check")
            continue
        rng = np.random.default_rng([seed, len(op.name), sum(map(ord, op.name))])
        records: list[Comparison] = []
        pending = []
        for case in op.draw(rng):
            more, waiting = _op_records(calls, op, case, rng, seed, undone)
            if waiting is not None:
                pending.append((*waiting[:5], waiting[5] + len(records), waiting[6] + len(records)))
            records += more
        results += _diagnosed(op, records, pending)
    run = {name for name in ENGINE_FUNCTIONS if done.get(name)}
    if run:
        results += _engine_records(calls, run, np.random.default_rng([seed, 17]), seed)
    if run == set(ENGINE_FUNCTIONS) and all(done.get(op) for op in NETWORK_OPS):
        results += _built_from(_network_records(calls, seed, undone), results)  # everything they use is done: check it together
    waiting = any("an op that is not implemented yet" in (r.not_checkable_reason or "") for r in results)
    advice = (f"implement {', '.join(undone)}, then run again: the gradients that call {'it' if len(undone) == 1 else 'them'} "
              f"are judged once they run" if waiting else RERUN)
    return settle(found["name"], "DLSys needle", results, seed, unsupported=tuple(unsupported),
                  require_stability=require_stability, advice=advice)
