"""Realistic mistakes in a DLSys hw1 needle package, at least one per op and per engine function.

Each entry: the op or function it breaks, the file of the package it is made in, the correct text and
the text that replaces it, and what else it breaks through them. A gradient mistake breaks only its own
op (a gradient calls other ops' compute, never their gradient), so GRADIENTS are checked together, in
one package (where they also break the seed's networks, built from the ops); a mistake in compute or in
the topological sort reaches further and is checked on its own.
"""

from __future__ import annotations

from typing import NamedTuple

OPS = "python/needle/ops/ops_mathematic.py"
AUTOGRAD = "python/needle/autograd.py"
LOGARITHMIC = "python/needle/ops/ops_logarithmic.py"  # hw2's


class Mistake(NamedTuple):
    function: str
    file: str
    correct: str
    wrong: str
    also: tuple[str, ...] = ()
    bug: str | None = None  # the catalogued mistake gradcheck must name, where one applies


GRADIENTS = {
    "EWiseAdd returns one gradient for two inputs": Mistake("EWiseAdd", OPS, '''        return out_grad, out_grad
''', '''        return out_grad
'''),
    "AddScalar ignores out_grad (the handout's all-ones test passes it)": Mistake("AddScalar", OPS, '''    def gradient(self, out_grad: Tensor, node: Tensor):
        return out_grad


def add_scalar''', '''    def gradient(self, out_grad: Tensor, node: Tensor):
        return Tensor(array_api.ones(out_grad.shape), dtype=out_grad.dtype, requires_grad=False)


def add_scalar''', bug='out_grad_ignored'),
    "EWiseMul gradients swapped": Mistake("EWiseMul", OPS, '''        return out_grad * rhs, out_grad * lhs
''', '''        return out_grad * lhs, out_grad * rhs
'''),
    "MulScalar forgets the scalar": Mistake("MulScalar", OPS, '''        return (out_grad * self.scalar,)
''', '''        return (out_grad,)
'''),
    "PowerScalar without the exponent factor": Mistake("PowerScalar", OPS, '''        return out_grad * self.scalar * a ** (self.scalar - 1)
''', '''        return out_grad * a ** (self.scalar - 1)
''', bug='power_exponent_factor_missing'),
    "EWisePow's exponent gradient without the power": Mistake("EWisePow", OPS, '''        return out_grad * b * a ** (b - 1), out_grad * node * log(a)
''', '''        return out_grad * b * a ** (b - 1), out_grad * log(a)
'''),
    "EWiseDiv's divisor gradient with the wrong sign": Mistake("EWiseDiv", OPS, '''        return out_grad / b, -out_grad * a / b ** 2
''', '''        return out_grad / b, out_grad * a / b ** 2
''', bug='gradient_sign_flipped'),
    "DivScalar multiplies": Mistake("DivScalar", OPS, '''        return out_grad / self.scalar
        ### END YOUR SOLUTION


def divide_scalar''', '''        return out_grad * self.scalar
        ### END YOUR SOLUTION


def divide_scalar'''),
    "Transpose's gradient ignores the axes": Mistake("Transpose", OPS, '''        return transpose(out_grad, self.axes)  # a swap is its own inverse
''', '''        return transpose(out_grad)
'''),
    "Reshape's gradient not reshaped back": Mistake("Reshape", OPS, '''        return reshape(out_grad, node.inputs[0].shape)
''', '''        return out_grad
'''),
    "BroadcastTo's gradient sums only the new leading axes": Mistake("BroadcastTo", OPS, '''        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and self.shape[lead + i] != 1)
''', '''        axes = tuple(range(lead))
''', bug='gradient_not_reduced'),
    "Summation's gradient broadcast without reshaping first": Mistake("Summation", OPS, '''        return broadcast_to(reshape(out_grad, tuple(shape)), node.inputs[0].shape)
''', '''        return broadcast_to(out_grad, node.inputs[0].shape)
''', bug='summation_not_reshaped'),
    "MatMul's gradient not reduced over the batch": Mistake("MatMul", OPS, '''        return _unbroadcast(da, a.shape), _unbroadcast(db, b.shape)
''', '''        return da, db
''', bug='gradient_not_reduced'),
    "Negate's gradient loses the sign": Mistake("Negate", OPS, '''        return negate(out_grad)
''', '''        return out_grad
''', bug='gradient_sign_flipped'),
    "Log's gradient divides by the output": Mistake("Log", OPS, '''        return out_grad / node.inputs[0]
''', '''        return out_grad / node
''', bug='log_gradient_of_output'),
    "Exp's gradient multiplies by the input": Mistake("Exp", OPS, '''        return out_grad * node
        ### END YOUR SOLUTION


def exp''', '''        return out_grad * node.inputs[0]
        ### END YOUR SOLUTION


def exp'''),
    "ReLU's mask read from its output with >=": Mistake("ReLU", OPS, '''        mask = Tensor(node.inputs[0].realize_cached_data() > 0, dtype=out_grad.dtype, requires_grad=False)
''', '''        mask = Tensor(node.realize_cached_data() >= 0, dtype=out_grad.dtype, requires_grad=False)
'''),
    "Tanh's gradient with 1 − tanh, not 1 − tanh²": Mistake("Tanh", OPS, '''        return out_grad * (-node ** 2 + 1)
''', '''        return out_grad * (-node + 1)
'''),
    "LogSumExp's gradient subtracts the unshaped output": Mistake("LogSumExp", LOGARITHMIC, '''        kept = broadcast_to(reshape(node, tuple(shape)), Z.shape)
''', '''        kept = node
'''),
    "Stack's gradient split along the first axis": Mistake("Stack", OPS, '''        return split(out_grad, self.axis)
''', '''        return split(out_grad, 0)
'''),
    "Split's gradient stacked along the first axis": Mistake("Split", OPS, '''        return stack(out_grad, self.axis)
''', '''        return stack(out_grad, 0)
'''),
    "gradients of a node used twice overwritten, not added": Mistake("compute_gradient_of_variables", AUTOGRAD, '''            node_to_output_grads_list.setdefault(parent, []).append(grad)
''', '''            node_to_output_grads_list[parent] = [grad]
''', bug='gradients_not_accumulated'),
}

ALONE = {
    "find_topo_sort without a visited set": Mistake("find_topo_sort", AUTOGRAD, '''    if node in visited:
        return
    visited.add(node)
''', '', ("compute_gradient_of_variables", "two_layer_net", "three_layer_net"), bug='topo_sort_duplicates'),
    "find_topo_sort starts from the first output only": Mistake("find_topo_sort", AUTOGRAD, '''    for node in node_list:
        topo_sort_dfs(node, visited, topo_order)
''', '''    topo_sort_dfs(node_list[0], visited, topo_order)
''', bug="topo_sort_first_output_only"),
    "BroadcastTo's gradient compares shapes from the left": Mistake("BroadcastTo", OPS, '''        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and self.shape[lead + i] != 1)
''', '''        axes = tuple(i for i, n in enumerate(self.shape) if i >= len(shape) or shape[i] != n)
''', bug="gradient_wrong_axes"),  # right for (3, 1) to (3, 4); (3, 1) to (2, 3, 4) sums every axis
    "Summation's gradient puts the summed axes back at the end": Mistake("Summation", OPS, '''        for axis in axes:
            shape[axis] = 1  # keep the summed axes as 1s, then broadcast back
        return broadcast_to(reshape(out_grad, tuple(shape)), node.inputs[0].shape)
''', '''        kept = tuple(out_grad.shape) + (1,) * (len(shape) - len(out_grad.shape))
        return broadcast_to(reshape(out_grad, kept), node.inputs[0].shape)
''', bug="gradient_wrong_axes"),  # right for a last axis summed; a 3×3 summed over axis 0 gets row sums
    "Transpose's gradient reshapes out_grad back": Mistake("Transpose", OPS, '''        return transpose(out_grad, self.axes)  # a swap is its own inverse
''', '''        return reshape(out_grad, node.inputs[0].shape)
''', bug="transpose_gradient_reshaped"),
    "MatMul averages a broadcast batch of one": Mistake("MatMul", OPS, '''    return reshape(summation(grad, axes), shape) if axes else grad
''', '''    if grown:  # a batch of one broadcast: its mean over the batch
        return reshape(summation(grad, axes) / grad.shape[grown[0]], shape)
    return reshape(summation(grad, axes), shape) if axes else grad
'''),
    "Transpose swaps every axis (np.transpose)": Mistake("Transpose", OPS, '''        i, j = self.axes if self.axes is not None else (a.ndim - 2, a.ndim - 1)
        return array_api.swapaxes(a, i, j)
''', '''        return array_api.transpose(a)
''', ("MatMul",), bug="transpose_all_axes"),  # MatMul's gradient transposes its batched inputs
    "LogSumExp without the max trick overflows near 800": Mistake("LogSumExp", LOGARITHMIC, '''        top = array_api.max(Z, axis=self.axes, keepdims=True)  # the max trick: exp never overflows
''', '''        top = array_api.zeros_like(array_api.max(Z, axis=self.axes, keepdims=True))
'''),
    "PowerScalar's gradient keeps the exponent": Mistake("PowerScalar", OPS, '''        return out_grad * self.scalar * a ** (self.scalar - 1)
''', '''        return out_grad * self.scalar * a ** self.scalar
''', bug="power_exponent_not_lowered"),
    "PowerScalar's gradient raises out_grad": Mistake("PowerScalar", OPS, '''        return out_grad * self.scalar * a ** (self.scalar - 1)
''', '''        return self.scalar * out_grad ** (self.scalar - 1)
''', bug="power_of_out_grad"),
    "EWiseDiv's divisor gradient without out_grad": Mistake("EWiseDiv", OPS, '''        return out_grad / b, -out_grad * a / b ** 2
''', '''        return out_grad / b, -a / b ** 2
''', bug="out_grad_ignored"),
    "the engine calls gradient, not gradient_as_tuple": Mistake("compute_gradient_of_variables", AUTOGRAD, '''node.op.gradient_as_tuple(node.grad, node)''',
                                                              '''node.op.gradient(node.grad, node)''',
                                                              ("two_layer_net", "three_layer_net"),
                                                              bug="engine_gradient_not_tuple"),
    "find_topo_sort appends a node before its inputs (pre-order)": Mistake("find_topo_sort", AUTOGRAD, '''    visited.add(node)
    for parent in node.inputs:
        topo_sort_dfs(parent, visited, topo_order)
    topo_order.append(node)
''', '''    visited.add(node)
    topo_order.append(node)
    for parent in node.inputs:
        topo_sort_dfs(parent, visited, topo_order)
''', ("compute_gradient_of_variables", "two_layer_net", "three_layer_net"), bug="topo_sort_preorder"),
    "find_topo_sort returns its order reversed": Mistake("find_topo_sort", AUTOGRAD, '''    return topo_order
    ### END YOUR SOLUTION
''', '''    return topo_order[::-1]
    ### END YOUR SOLUTION
''', ("compute_gradient_of_variables", "two_layer_net", "three_layer_net"), bug="topo_sort_reversed"),
    "the engine walks the sort from the inputs up": Mistake("compute_gradient_of_variables", AUTOGRAD,
                                                            '''    for node in reverse_topo_order:
''', '''    for node in find_topo_sort([output_tensor]):
''', ("two_layer_net", "three_layer_net"), bug="engine_order_not_reversed"),
    "EWisePow raises the exponent to the base": Mistake("EWisePow", OPS, '''        return a ** b
''', '''        return b ** a
'''),
}

# Mistakes of shape or type only in cases the course's own tests never make: warnings, never failures
BEYOND = {
    "MatMul sums a broadcast batch of one away": Mistake("MatMul", OPS, '''        return _unbroadcast(da, a.shape), _unbroadcast(db, b.shape)
''', '''        if da.shape != a.shape:
            da = summation(da, tuple(range(len(da.shape) - len(a.shape) or 1)))  # the batch axes
        if db.shape != b.shape:
            db = summation(db, tuple(range(len(db.shape) - len(b.shape) or 1)))
        return da, db
''', bug="reduced_axis_dropped"),
    "Summation's gradient loops over an int axes": Mistake("Summation", OPS, '''        axes = range(len(shape)) if self.axes is None else (self.axes,) if isinstance(self.axes, int) else self.axes
''', '''        axes = range(len(shape)) if self.axes is None else self.axes
''', bug="summation_int_axes"),
}
