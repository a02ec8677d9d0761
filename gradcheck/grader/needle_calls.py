"""The calls a needle check makes into a student's own package, answered with plain data.

``gradcheck.checks.needle`` judges; this module only builds Tensors with the
student's classes, runs their ops and their engine, and reads values back.
Every function takes the needle package first. It imports nothing but numpy:
the grader's sandbox runs it beside the submission, where the Tensors and
nodes stay, and the check holds handles to them. The student's exceptions
propagate to the check, which says what they mean.
"""

import inspect
import types

import numpy as np

CALLS = ("inventory", "values", "apply", "gradient", "compute", "graph", "topo_sort", "backward",
         "backward_reversed_sort", "backprop", "network", "softmax_loss", "nn_epoch")


class Calls:
    """These functions bound to one needle package imported in this process (the grader's sandbox has its own)."""

    def __init__(self, ndl):
        self._ndl = ndl

    def __getattr__(self, name):
        if name not in CALLS:
            raise AttributeError(name)
        function, ndl = globals()[name], self._ndl
        return lambda *args, **kwargs: function(ndl, *args, **kwargs)


def _source(value):
    """The source of a function: False when it is missing, None when it cannot be read."""
    if not callable(value):
        return False
    try:
        return inspect.getsource(value)
    except (OSError, TypeError):
        return None


def inventory(ndl, op_names, engine_names):
    """Whether ``ndl`` is a needle package, and the source of every op's compute and gradient and engine function."""
    autograd, ops = getattr(ndl, "autograd", None), getattr(ndl, "ops", None)
    found = {"present": ops is not None and all(isinstance(getattr(autograd, n, None), type)
                                                for n in ("Tensor", "TensorOp")),
             "name": str(getattr(ndl, "__name__", "needle")), "ops": {}, "engine": {}}
    if not found["present"]:
        return found
    for name in op_names:
        cls = getattr(ops, name, None)
        if isinstance(cls, type):
            found["ops"][name] = {m: _source(getattr(cls, m, None)) for m in ("compute", "gradient")}
    for name in engine_names:
        source = _source(getattr(autograd, name, None))
        if source is not False:
            found["engine"][name] = source
    return found


def tensor(ndl, array, requires_grad=True, dtype="float64"):
    """A Tensor of the student's class holding a copy of ``array`` (float64 unless ``dtype`` says otherwise)."""
    return ndl.autograd.Tensor(np.array(array, dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def values(ndl, value):
    """What a Tensor (or whatever a student returned in its place) holds, as the check reads it."""
    data = value.realize_cached_data() if hasattr(value, "realize_cached_data") else value
    data = data.numpy() if hasattr(data, "numpy") and not isinstance(data, np.ndarray) else data
    if isinstance(data, (np.ndarray, np.generic, int, float, bool, list, tuple)) or data is None:
        return data
    try:  # the student's own array type: read it here, where it lives
        return np.array(data, copy=True)
    except Exception:
        return f"a {type(data).__name__}"


def apply(ndl, function, arrays, args=(), kwargs=None, listed=False):
    """``ops.<function>(*Tensors of arrays, *args, **kwargs)`` by the student's module function: the output node.

    With ``listed``, the first input is a list of Tensors, the slices of ``arrays[0]`` (``stack(args, axis)``).
    """
    inputs = [tensor(ndl, a) for a in arrays]
    if listed:
        inputs[0] = [tensor(ndl, a) for a in arrays[0]]
    with np.errstate(all="ignore"):
        return getattr(ndl.ops, function)(*inputs, *args, **(kwargs or {}))


def gradient(ndl, node, out_grad, tupled=False):
    """``node.op.gradient_as_tuple(out_grad, node)``, as the handout's tests call it: one Tensor per input.

    With ``tupled`` the op outputs a TensorTuple (``split``), and out_grad is ``make_tuple`` of the slices of
    ``out_grad``.
    """
    grad = (ndl.ops.make_tuple(*[tensor(ndl, g, requires_grad=False) for g in out_grad]) if tupled
            else tensor(ndl, out_grad, requires_grad=False))
    with np.errstate(all="ignore"):
        given = node.op.gradient_as_tuple(grad, node)
    return list(given)


def compute(ndl, node, arrays, listed=False):
    """``node.op.compute`` on copies of ``arrays``: a compute that writes into its inputs spoils nothing.

    With ``listed``, the first input is the tuple of the slices of ``arrays[0]``, as a TensorTuple holds them.
    """
    inputs = [np.array(a, copy=True) for a in arrays]
    if listed:
        inputs[0] = tuple(np.array(a, copy=True) for a in arrays[0])
    with np.errstate(all="ignore"):
        return np.asarray(node.op.compute(*inputs), np.float64)


# ---------------------------------------------------------------------------
# The engine, on ops whose compute and gradient are known


def reference_ops(autograd):
    """Ops whose compute and gradient are known, built on the student's TensorOp (numpy inside)."""
    TensorOp = autograd.TensorOp

    class Add(TensorOp):
        def compute(self, a, b):
            return a + b

        def gradient(self, out_grad, node):
            return out_grad, out_grad

    class Mul(TensorOp):
        def compute(self, a, b):
            return a * b

        def gradient(self, out_grad, node):
            a, b = node.inputs
            return Mul()(out_grad, b), Mul()(out_grad, a)

    class Sin(TensorOp):
        def compute(self, a):
            return np.sin(a)

        def gradient(self, out_grad, node):
            return Mul()(out_grad, Cos()(node.inputs[0]))

    class Cos(TensorOp):
        def compute(self, a):
            return np.cos(a)

        def gradient(self, out_grad, node):
            return Mul()(out_grad, Scale(-1.0)(Sin()(node.inputs[0])))

    class Scale(TensorOp):
        def __init__(self, factor):
            self.factor = factor

        def compute(self, a):
            return a * self.factor

        def gradient(self, out_grad, node):
            return Scale(self.factor)(out_grad)

    return {"add": Add, "mul": Mul, "sin": Sin, "cos": Cos, "scale": Scale}


def _diamond(ref, x):
    s = ref["sin"]()(x)
    return ref["mul"]()(s, ref["scale"](2.0)(s))  # s is used twice: its gradient must add both uses


def _chain(ref, x):
    h = x
    for _ in range(3):
        h = ref["add"]()(ref["sin"]()(h), ref["scale"](0.5)(x))  # x is used again at every depth
    return ref["mul"]()(h, h)


def _second(ref, x):
    return ref["scale"](3.0)(ref["sin"]()(x))


GRAPHS = {"diamond": _diamond, "chain": _chain, "second": _second}


def graph(ndl, name, x0):
    """``(x, out)``: the graph ``name`` of known ops on a leaf Tensor x holding ``x0``; or on the Tensor ``x0``."""
    x = x0 if isinstance(x0, ndl.autograd.Tensor) else tensor(ndl, x0)
    return x, GRAPHS[name](reference_ops(ndl.autograd), x)


def topo_sort(ndl, roots):
    """``find_topo_sort(roots)`` as numbers: every node of the graph by identity, each node's inputs, and the
    order the sort lists (a node outside the graph as -1, -2, …)."""
    nodes, stack = [], list(roots)
    while stack:
        node = stack.pop()
        if not any(node is n for n in nodes):
            nodes.append(node)
            stack.extend(node.inputs)
    number = {id(n): k for k, n in enumerate(nodes)}
    order = list(ndl.autograd.find_topo_sort(list(roots)))
    for node in order:
        number.setdefault(id(node), -1 - sum(v < 0 for v in number.values()))
    return {"inputs": [[number[id(p)] for p in n.inputs] for n in nodes], "order": [number[id(n)] for n in order],
            "roots": [number[id(r)] for r in roots]}


def backward(ndl, out, x, out_grad):
    """``compute_gradient_of_variables(out, out_grad)`` on the graph itself; then x.grad (None when it is not set)."""
    ndl.autograd.compute_gradient_of_variables(out, tensor(ndl, out_grad, requires_grad=False))
    return getattr(x, "grad", None)


def backward_reversed_sort(ndl, name, x0, out_grad):
    """x.grad by ``compute_gradient_of_variables`` on a fresh graph ``name`` while ``find_topo_sort`` returns its
    order reversed: an engine that walks the sort from the inputs up gets it right then."""
    autograd = ndl.autograd
    sort = autograd.find_topo_sort
    autograd.find_topo_sort = lambda nodes: list(reversed(list(sort(nodes))))
    try:
        x, out = graph(ndl, name, x0)
        autograd.compute_gradient_of_variables(out, tensor(ndl, out_grad, requires_grad=False))
        return getattr(x, "grad", None)
    finally:
        autograd.find_topo_sort = sort


def backprop(ndl, out, out_grad, accumulate):
    """x.grad by a plain reverse mode over a graph of known ops (the leaf is the graph's one input); with
    ``accumulate`` off, every node keeps only its last contribution — the mistake the check names."""
    order, seen = [], set()

    def visit(node):  # post-order: every node after its inputs
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node.inputs:
                visit(parent)
            order.append(node)

    visit(out)
    Tensor = ndl.autograd.Tensor
    grads = {id(out): np.asarray(out_grad, np.float64)}
    for node in reversed(order):
        if node.op is None or id(node) not in grads:
            continue
        back = node.op.gradient(Tensor(grads[id(node)], dtype="float64", requires_grad=False), node)
        for parent, g in zip(node.inputs, back if isinstance(back, tuple) else (back,)):
            value = np.asarray(g.realize_cached_data(), np.float64)
            grads[id(parent)] = grads[id(parent)] + value if accumulate and id(parent) in grads else value
    leaf = order[0] if order and order[0].op is None else None
    return None if leaf is None else grads.get(id(leaf))


# ---------------------------------------------------------------------------
# The seed's networks, built from the student's own ops and differentiated by their own engine


def network(ndl, Ws, X, Y):
    """``relu(… relu(X W₁) …) W_L`` with softmax loss, in the student's ops; ``loss.backward()``; each W.grad
    (None where it is not set). ``Y`` is one-hot."""
    ops = ndl.ops
    weights = [tensor(ndl, W) for W in Ws]
    with np.errstate(all="ignore"):
        h = tensor(ndl, X, requires_grad=False)
        for i, W in enumerate(weights):
            h = ops.matmul(h, W)
            h = ops.relu(h) if i < len(weights) - 1 else h  # Z_{i+1} = σᵢ(ZᵢWᵢ), the last layer linear
        # ℓ_ce = (Σ log Σ exp h − Σ h ∘ I_y) / m
        picked = ops.summation(ops.multiply(h, tensor(ndl, Y, requires_grad=False)))
        loss = ops.divide_scalar(ops.add(ops.summation(ops.log(ops.summation(ops.exp(h), axes=(1,)))),
                                         ops.negate(picked)), len(X))
        loss.backward()
    return [getattr(W, "grad", None) for W in weights]


# ---------------------------------------------------------------------------
# hw1's apps/simple_ml.py: hw0's softmax_loss and nn_epoch, written with needle Tensors


def flavoured(module):
    """The needle package ``module`` imported (``import needle as ndl``), or None: its functions take Tensors."""
    return next((v for v in vars(module).values() if isinstance(v, types.ModuleType) and v.__name__ == "needle"
                 and inventory(v, (), ())["present"]), None)


def softmax_loss(module, name, Z, Y):
    """``module.<name>(Z, Y)`` on Tensors of the logits' dtype (``Y`` one-hot): what the loss holds."""
    ndl = flavoured(module)
    dtype = str(np.asarray(Z).dtype)
    return values(ndl, getattr(module, name)(tensor(ndl, Z, dtype=dtype), tensor(ndl, Y, dtype=dtype)))


def nn_epoch(module, name, X, y, W1, W2, lr, batch):
    """``module.<name>(X, y, W1, W2, lr=…, batch=…)`` with W1, W2 as Tensors of their dtype: what the two Tensors
    it returns hold, or what it returned instead (a string naming its type)."""
    ndl = flavoured(module)
    weights = [tensor(ndl, W, dtype=str(np.asarray(W).dtype)) for W in (W1, W2)]
    out = getattr(module, name)(X, y, *weights, lr=lr, batch=batch)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        return f"a {type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
    return [values(ndl, w) for w in out]
