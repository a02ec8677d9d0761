"""Name the bug behind a wrong gradient by testing known mistakes one at a time.

Each entry of the catalog is a hypothesis: "the user forgot σ'", "the user
summed instead of averaging", … For each, gradcheck recomputes the gradient
*with that mistake injected* into an otherwise textbook backprop and asks
whether it reproduces the user's numbers. Every case of a check testifies
(:class:`Trial`), and a mistake is named only when it reproduces every failing
case it would change, no passing case it would change, and no other mistake fits
as well (:func:`settle`); otherwise the cause is reported as unknown, with the
evidence. A wrong confident diagnosis is worse than none, so a hypothesis that
coincides with the correct gradient on the problem at hand (σ' at the
activation, for ReLU) is never offered.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from gradcheck.compare import TOLERANCES, Tolerance, compare
from gradcheck.witnesses import Problem
from reference_mlp import mlp
from reference_mlp.activations import Activation
from reference_mlp.loss import one_hot, softmax
from reference_mlp.mlp import Params


@dataclass(frozen=True)
class Bug:
    """A known backprop mistake: what went wrong, in plain words, and how to fix it."""

    id: str
    cause: str
    fix: str


def _bugs(*rows: tuple[str, str, str]) -> dict[str, Bug]:
    return {row[0]: Bug(*row) for row in rows}


CATALOG: dict[str, Bug] = _bugs(
    ("missing_sigma_prime", "σ' is missing: the gradient was passed back through the activation without "
     "multiplying by σ'(ZW) (Eq. 11 / Eq. 14 need G ∘ σ'(ZᵢWᵢ))",
     "multiply the incoming gradient elementwise by σ' at the pre-activation before the matrix product"),
    ("sigma_prime_at_activation", "σ' is taken at the activation σ(ZW) instead of at the pre-activation ZW",
     "evaluate σ' at ZᵢWᵢ (e.g. sigmoid: s(1 − s) with s = σ(ZᵢWᵢ), not σ'(s))"),
    ("output_formula_at_preactivation", "σ' is written in terms of the output (s(1 − s), 1 − t²) but fed the "
     "pre-activation ZW instead of the output σ(ZW)",
     "apply the output form to s = σ(ZᵢWᵢ), or use σ' of the pre-activation"),
    ("sum_instead_of_mean", "the gradient is m times too large: the loss is averaged over the batch but the "
     "gradient is summed (G_{L+1} = S − I_y instead of (S − I_y)/m)",
     "divide S − I_y by the batch size m once"),
    ("divided_by_m_twice", "the gradient is m times too small: the batch mean was taken twice",
     "divide by the batch size m exactly once, at G_{L+1} = (S − I_y)/m"),
    ("mean_over_classes", "the gradient is divided by the number of classes k instead of the batch size m",
     "average over the batch (axis 0, m rows), not over the classes"),
    ("sign_flip", "the gradient has the wrong sign: I_y − S instead of S − I_y",
     "∇_h ℓ_ce = S − I_y: softmax minus one-hot"),
    ("preactivation_instead_of_activation", "the pre-activation XW₁ is used where the activation σ(XW₁) "
     "belongs (Eq. 10: ∇W₂ = σ(XW₁)ᵀ (S − I_y))",
     "multiply by the activation σ(ZᵢWᵢ), the layer's output, not its input to σ"),
    ("layer_index_off_by_one", "a layer's weight gradient uses the wrong layer's activation: Z_{i+1}ᵀ δ "
     "instead of Zᵢᵀ δ (an index off by one in the cached list)",
     "∇Wᵢ = Zᵢᵀ (G_{i+1} ∘ σᵢ'(ZᵢWᵢ)) uses the input of layer i, the activation cached before Wᵢ"),
    ("transposed", "the gradient is transposed: its entries are those of the right gradient, with rows and "
     "columns swapped", "a gradient has the shape of its weight, nᵢ × n_{i+1}: Zᵢᵀ δ, not δᵀ Zᵢ"),
    ("swapped_outputs", "the gradients are returned in the wrong order (∇W₂ where ∇W₁ is expected)",
     "return the gradients in layer order: ∇W₁ first"),
    ("one_hot_off_by_one", "the one-hot rows I_y mark class y ± 1 instead of class y",
     "build I_y with I[np.arange(m), y] = 1"),
    ("one_hot_sized_by_labels", "the one-hot I_y is sized by the labels present in the batch (y.max() + 1), "
     "so it breaks when a batch lacks the largest class",
     "size I_y by the number of classes k, the width of the last layer"),
    ("softmax_overflow", "softmax is not computed stably: on large logits exp(h) overflows to inf (S becomes NaN) "
     "or S underflows to 0 (log S becomes −inf)",
     "subtract each row's max before exp (S = exp(h − max h) / Σ exp(h − max h)) and take "
     "log S = h − max h − log Σ exp(h − max h)"),
    ("activation_on_output", "the activation is applied to the last layer too, so the logits pass through σ",
     "leave the last layer linear: the logits go straight into softmax cross-entropy"),
    ("inputs_mutated", "your code changes its input arrays in place",
     "work on copies (X = X - …, not X -= …; dx = dout.copy() before dx[x <= 0] = 0); never write into the "
     "arrays you are given unless the assignment says to (an SGD epoch updates only its weights)"),
    ("bias_kept_dimension", "∇b has a kept dimension: it is a row or a column, (1, M) or (M, 1), not a vector (M,)",
     "sum without keepdims (db = dout.sum(axis=0)), or reshape it to b's own shape"),
    ("updated_weights", "∇W₂ is computed with W₁ already updated in this step",
     "compute every gradient of the batch first, then update all weights"),
    ("skipped_partial_batch", "the last, partial minibatch is skipped (range(m // batch))",
     "loop for i in range(0, m, batch) so the final smaller batch is used too"),
    ("hard_coded_batch_size", "the batch argument is ignored: minibatches have a fixed size",
     "slice X[i:i + batch] with the batch size you are given"),
    ("partial_batch_nominal_size", "the last, partial minibatch is averaged over the nominal batch size "
     "(/ batch) instead of its own size, so its step is too small",
     "divide by the number of rows in the minibatch (len(yb) or X_b.shape[0]), not by batch"),
    ("scaled_gradient", "a gradient is a constant multiple of the right one",
     "apply the batch mean 1/m exactly once, at G_{L+1} = (S − I_y)/m, and nothing else"),
    ("regularization_not_halved", "the regularisation is reg·ΣW², without the factor 0.5 the assignment-2 "
     "handout asks for", "loss += 0.5 * self.reg * np.sum(W * W) for every W, and grads[W] += self.reg * W"),
    ("regularization_gradient_missing", "dW lacks the gradient of the regularisation term",
     "add the derivative of the regularisation to dW: 2 * reg * W for reg * np.sum(W * W)"),
    ("argument_order", "your function takes its arguments in another order than the handout's",
     "define the function with the handout's signature"),
    ("other_activation", "your code computes another activation than the one it is checked for",
     "check it for the activation it implements, or implement the one the assignment asks for"),
    ("shuffles", "the epoch depends on randomness: two calls on the same data give different weights",
     "iterate over the minibatches in order; shuffling is the caller's job"),
    ("bias_wrong_axis", "∇b is summed over the wrong axis (over the units instead of over the batch)",
     "∇bᵢ = 1ᵀ δ: sum the upstream gradient over axis 0, the examples"),
    ("bias_not_summed", "∇b is averaged over the batch although the upstream gradient is already averaged",
     "∇bᵢ = dout.sum(axis=0): the 1/m is already inside dout"),
    ("accumulates_gradient", "the stored gradient accumulates across backward calls (dW += …)",
     "assign the gradient in backward (self.dW = …), or zero it before each pass"),
    ("stale_cache", "a layer keeps the input of an earlier forward pass: the second backward uses stale values",
     "store the input on every forward call"),
    ("normalization_mean_terms_missing", "the normalization's backward treats the mean and the variance as "
     "constants: dx = dout·γ/√(var + ε) leaves out the paths through μ and σ²",
     "add both paths: dx = γ/(N·√(var + ε))·(N·dout − Σdout − x̂·Σ(dout·x̂)), the sums over the axes you "
     "normalize over (N of them)"),
    ("batchnorm_eps_outside_sqrt", "test mode divides by √var + ε instead of √(var + ε)",
     "normalize with np.sqrt(running_var + eps), as in training"),
    ("running_average_swapped", "the running statistics weight the batch by momentum and the old value by "
     "1 − momentum, the other way round",
     "running_mean = momentum * running_mean + (1 - momentum) * sample_mean (and the same for the variance)"),
    ("dropout_not_scaled", "training-mode dropout does not divide the kept units by the keep probability "
     "(the handout's dropout is inverted: test mode does nothing, so training must scale)",
     "mask = (np.random.rand(*x.shape) < p) / p with p the keep probability; dx = dout * mask uses the same mask"),
    ("dropout_p_inverted", "p is read the opposite way to your docstring: the units kept are 1 − p of them",
     "follow the docstring: keep a unit when rand < p if p is the keep probability, when rand ≥ p if it is the "
     "drop probability"),
    ("dropout_test_mode_scaled", "test-mode dropout changes x; with inverted dropout test mode is the identity",
     "return x unchanged in test mode (out = x)"),
    ("max_pool_gradient_to_every_element", "max-pool backward sends each window's gradient to every element of "
     "the window instead of to its maximum only",
     "add dout[n, c, i, j] only where the window equals its maximum: dx_window += (window == window.max()) * "
     "dout[n, c, i, j]"),
    ("max_pool_overlap_overwritten", "max-pool backward assigns (=) the gradient where windows overlap instead "
     "of adding it (+=), so an element that is the maximum of two windows keeps one window's gradient",
     "accumulate into dx with +=, since overlapping windows can share their maximum"),
    ("conv_padding_not_removed", "conv backward returns the gradient of the padded input: dx still has the "
     "padding", "slice the padding off: dx = dx_pad[:, :, pad:pad + H, pad:pad + W]"),
    ("gradient_all_zero", "the gradient is all zeros where the right one is not: nothing was added into it (a loop "
     "that never runs, a result not written back, the array returned before it is filled)",
     "check that your loops run over every output position and add into dx (dx[...] += ...), and return the arrays "
     "you filled"),
    ("conv_pad_zero_slice", "dx is sliced with [pad:-pad], which is empty when pad = 0",
     "slice with [pad:pad + H, pad:pad + W], which is right for every pad"),
    ("rnn_no_backprop_through_time", "the RNN backward does not carry the gradient back through time: each "
     "step sees only its own dh[:, t], not the gradient flowing from step t + 1 through Wh",
     "loop t from T − 1 down to 0 with dprev = 0 first; feed dh[:, t] + dprev into the step backward and keep its "
     "dprev_h for step t − 1"),
    ("lstm_cell_path_missing", "the cell's gradient misses the path through next_h: dnext_c alone reaches the "
     "cell, without dnext_h ∘ o ∘ (1 − tanh²(next_c))",
     "dc = dnext_c + dnext_h * o * (1 - np.tanh(next_c) ** 2)"),
    ("embedding_overwritten", "dW[x] = dout assigns, so a word used more than once keeps one of its gradients "
     "instead of their sum", "accumulate: np.add.at(dW, x, dout)"),
    ("mask_ignored", "the mask is ignored: time steps it marks as padding count in the loss and get a gradient",
     "multiply each step's loss and its dx by mask (dx *= mask[:, :, None])"),
    # DLSys hw1: needle ops and the reverse-mode engine
    ("gradient_not_reduced", "the gradient has the broadcast shape, not its input's: it is not summed over the "
     "axes the forward broadcast the input along",
     "sum over the leading axes the forward added and over every axis of size 1 that grew, then reshape to the "
     "input's shape"),
    ("gradient_wrong_axes", "the gradient sums or puts back the wrong axes: out_grad's axes are lined up with, or "
     "summed over, axes of the input the forward did not broadcast or sum",
     "BroadcastTo: sum over the leading axes the forward added and the axes of size 1 that grew, then reshape to the "
     "input's shape; Summation: reshape out_grad with a 1 at each summed axis (self.axes), then broadcast_to"),
    ("reduced_axis_dropped", "the gradient is summed over the broadcast axes but loses the input's axes of size 1: "
     "its entries are right, its shape is not the input's", "reshape the sum to the input's shape (node.inputs[i].shape)"),
    ("summation_not_reshaped", "Summation's gradient broadcasts out_grad without putting the summed axes back as 1s, "
     "so out_grad's axes line up with the wrong axes of the input",
     "reshape out_grad to the input's shape with 1 at every summed axis, then broadcast_to the input's shape"),
    ("transpose_all_axes", "Transpose reverses every axis (np.transpose, .T) instead of swapping two: the handout's "
     "Transpose swaps axes[0] and axes[1], the last two when axes is None",
     "array_api.swapaxes(a, *self.axes), or the last two axes when self.axes is None"),
    ("transpose_gradient_reshaped", "Transpose's gradient reshapes out_grad to the input's shape instead of "
     "transposing it back: the entries keep their order in memory, so they land at the wrong positions",
     "transpose(out_grad, self.axes): a swap of two axes is its own inverse"),
    ("out_grad_ignored", "the gradient does not multiply by out_grad: it is the gradient for an all-ones out_grad, "
     "which is all the handout's own check feeds it", "multiply the op's derivative by out_grad (the chain rule)"),
    ("summation_int_axes", "Summation fails for an int axes (axes=1), which numpy's sum takes and later homework "
     "passes (hw1's own tests pass None or a tuple)", "normalise first: axes = (self.axes,) if isinstance(self.axes, int) else self.axes"),
    ("engine_gradient_not_tuple", "compute_gradient_of_variables zips op.gradient(...) with the inputs, but an op "
     "with one input returns a bare Tensor", "call node.op.gradient_as_tuple(node.grad, node), which always gives a "
     "tuple"),
    ("gradient_sign_flipped", "an op's gradient has the wrong sign", "negate it: the derivative, times out_grad"),
    ("power_exponent_factor_missing", "PowerScalar's gradient lacks the exponent: d(aⁿ)/da = n·aⁿ⁻¹",
     "out_grad * n * a ** (n - 1)"),
    ("power_exponent_not_lowered", "PowerScalar's gradient keeps the exponent n: d(aⁿ)/da = n·aⁿ⁻¹, not n·aⁿ",
     "out_grad * n * a ** (n - 1)"),
    ("power_of_out_grad", "PowerScalar's gradient raises out_grad to n − 1 instead of the input a: the chain rule "
     "multiplies out_grad by n·aⁿ⁻¹", "out_grad * n * node.inputs[0] ** (n - 1)"),
    ("log_gradient_of_output", "Log's gradient divides by its output, log a, instead of its input a",
     "out_grad / node.inputs[0]"),
    ("gradients_not_accumulated", "compute_gradient_of_variables keeps one gradient of a node used several times "
     "instead of their sum", "append every contribution to node_to_output_grads_list[input] and sum them "
     "(sum_node_list) when the node's turn comes"),
    ("topo_sort_duplicates", "find_topo_sort lists a node more than once, so its gradient is propagated once per "
     "listing", "keep a visited set in topo_sort_dfs: return at once for a node already visited"),
    ("topo_sort_preorder", "find_topo_sort appends a node before it visits the node's inputs (pre-order), so a "
     "node can come before its inputs", "append the node after the loop over node.inputs: a post-order DFS"),
    ("topo_sort_reversed", "find_topo_sort returns its order reversed, the output first; the handout's sort ends in "
     "its outputs, and compute_gradient_of_variables reverses it itself",
     "return topo_order as the post-order DFS builds it, inputs first"),
    ("topo_sort_first_output_only", "find_topo_sort visits only the first node of its list, so the nodes only the "
     "other outputs reach are missing", "call topo_sort_dfs for every node in node_list, sharing one visited set"),
    ("built_from_failing_parts", "the network is built from ops or engine functions that fail their own checks "
     "above", "fix those first: the network's gradients come from them"),
    ("engine_order_not_reversed", "compute_gradient_of_variables walks the topological order from the inputs up, so "
     "a node's gradient is read before the nodes that use it have added theirs",
     "iterate over reversed(find_topo_sort([output_tensor])), the output first"),
)


@dataclass(frozen=True)
class Diagnosis:
    """The probable cause of a failure, or ``bug=None`` with the evidence when it is unknown."""

    bug: Bug | None
    evidence: str
    cause: str | None = None  # the words of this case, when they say more than the catalog's
    fix: str | None = None

    def __str__(self) -> str:
        if self.bug is None:
            return f"cause unknown; {self.evidence}"
        return f"{self.cause or self.bug.cause}. Fix: {self.fix or self.bug.fix}. (Evidence: {self.evidence}.)"


def known(bug_id: str, evidence: str) -> Diagnosis:
    """A diagnosis from the catalog."""
    return Diagnosis(CATALOG[bug_id], evidence)


# ---------------------------------------------------------------------------
# A backprop with a switch for each known mistake


_OUTPUT_FORM: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda s: s * (1 - s),
    "tanh": lambda t: 1 - t**2,
    "relu": lambda t: (t > 0).astype(float),
}


def _derivative(sigma: Activation, mode: str) -> Callable[[np.ndarray], np.ndarray] | None:
    if sigma.name == "identity":
        return sigma.derivative
    if mode == "pre":
        return sigma.derivative
    if mode == "none":
        return lambda a: np.ones(np.shape(a))
    if mode == "activation":
        return lambda a: sigma.derivative(sigma(a))
    if mode == "output_formula":
        form = _OUTPUT_FORM.get(sigma.name)
        return None if form is None else form
    raise ValueError(mode)


def variant_gradients(
    problem: Problem,
    *,
    derivative: str = "pre",
    scale: float = 1.0,
    label_shift: int = 0,
    dW_from: str = "activation",
    output_sigma: bool = False,
    hidden: Activation | None = None,
    bias: str = "sum",
) -> dict[str, np.ndarray] | None:
    """∇Wᵢ, ∇bᵢ as Eqs. 14 and 15 give them, with one mistake switched on (``hidden``: another σ).

    Returns None when the mistake does not apply to this network.
    """
    arch, params, X = problem.arch, problem.params, np.asarray(problem.X, dtype=np.float64)
    params = Params(tuple(np.asarray(W, np.float64) for W in params.W),
                    tuple(None if b is None else np.asarray(b, np.float64) for b in params.b))
    sigmas = list(arch.activations)
    if hidden is not None:
        sigmas = [hidden] * (len(sigmas) - 1) + sigmas[-1:]
    if output_sigma:
        if arch.depth < 2 or sigmas[0].name == "identity":
            return None
        sigmas[-1] = sigmas[0]
    derivatives = [_derivative(s, derivative) for s in sigmas]
    if any(d is None for d in derivatives):
        return None
    Z, A = [X], []
    for W, b, sigma in zip(params.W, params.b, sigmas):
        A.append(Z[-1] @ W if b is None else Z[-1] @ W + b)
        Z.append(sigma(A[-1]))
    m, k = Z[-1].shape
    y = (np.asarray(problem.y, dtype=np.intp) + label_shift) % k
    G = softmax(Z[-1]) - one_hot(y, k)  # S − I_y
    G = G * (scale / m if problem.reduction == "mean" else scale)
    grads: dict[str, np.ndarray] = {}
    for i in reversed(range(arch.depth)):
        delta = G * derivatives[i](A[i])
        source = {"activation": Z[i], "next": Z[i + 1],
                  "preactivation": A[i - 1] if i else Z[i]}[dW_from]
        grads[f"W{i + 1}"] = source.T @ delta
        if params.b[i] is not None:  # Eq. 15 for a bias: 1ᵀ δ, or a mistaken reduction of δ
            grads[f"b{i + 1}"] = {"sum": delta.sum(axis=0), "mean": delta.mean(axis=0),
                                  "wrong_axis": delta.sum(axis=1), "row": delta.sum(axis=0, keepdims=True),
                                  "column": delta.sum(axis=0)[:, None]}[bias]
        G = delta @ params.W[i].T
    return grads


# Hypotheses about gradient functions, most specific first.
GRADIENT_HYPOTHESES: tuple[tuple[str, Callable[[Problem], Mapping[str, np.ndarray] | None]], ...] = (
    ("missing_sigma_prime", lambda p: variant_gradients(p, derivative="none")),
    ("sigma_prime_at_activation", lambda p: variant_gradients(p, derivative="activation")),
    ("output_formula_at_preactivation", lambda p: variant_gradients(p, derivative="output_formula")),
    ("preactivation_instead_of_activation", lambda p: variant_gradients(p, dW_from="preactivation")),
    ("layer_index_off_by_one", lambda p: variant_gradients(p, dW_from="next")),
    ("activation_on_output", lambda p: variant_gradients(p, output_sigma=True)),
    ("one_hot_off_by_one", lambda p: variant_gradients(p, label_shift=-1)),
    ("one_hot_off_by_one", lambda p: variant_gradients(p, label_shift=1)),
    ("sign_flip", lambda p: variant_gradients(p, scale=-1.0)),
    ("sum_instead_of_mean", lambda p: variant_gradients(p, scale=len(p.X)) if p.reduction == "mean" else None),
    ("divided_by_m_twice", lambda p: variant_gradients(p, scale=1 / len(p.X)) if p.reduction == "mean" else None),
    ("bias_not_summed", lambda p: variant_gradients(p, bias="mean") if any(b is not None for b in p.params.b) else None),
    ("bias_wrong_axis", lambda p: variant_gradients(p, bias="wrong_axis")
     if any(b is not None for b in p.params.b) else None),
    ("bias_kept_dimension", lambda p: variant_gradients(p, bias="row") if any(b is not None for b in p.params.b) else None),
    ("bias_kept_dimension", lambda p: variant_gradients(p, bias="column")
     if any(b is not None for b in p.params.b) else None),
    ("mean_over_classes", lambda p: variant_gradients(p, scale=len(p.X) / p.arch.widths[-1])
     if p.reduction == "mean" and len(p.X) != p.arch.widths[-1] else None),
)


FIT_FACTOR = 10.0


def fit_tolerance(narrow: bool = False) -> Tolerance:
    """How closely a mistake's numbers must match the user's for gradcheck to name it.

    A mistaken backprop run in the user's precision differs from its float64 variant here by rounding
    only. The pass tolerance of that precision bounds the rounding of a correct backprop, and a mistake
    adds or removes a handful of operations (a scale, another σ'), a few ulps more: 10 × the pass
    tolerance. It never follows a user's tolerance override, which says how strict a pass must be, not
    how alike two wrong computations are.
    """
    base = TOLERANCES[np.dtype(np.float32 if narrow else np.float64)]
    return Tolerance(base.rtol * FIT_FACTOR, base.floor, base.noise)


def fits(yours: Mapping[str, np.ndarray], hypothesis: Mapping[str, np.ndarray], narrow: bool = False,
         scales: Mapping[str, float] | None = None) -> bool:
    """True when every tensor the user gave matches the hypothesis (same shape, within :func:`fit_tolerance`).

    ``narrow`` says the user's code computes in float32 (also assumed for float32 tensors);
    ``scales`` gives each tensor's size (the right gradient's largest entry): two tensors that
    differ by less than the tolerance of that size are alike, even where both are rounding noise
    around zero (a bias gradient summed over the classes of S − I_y).
    """
    for name, value in yours.items():
        if name not in hypothesis:
            return False
        value = np.asarray(value)
        if value.shape != np.shape(hypothesis[name]) or not np.all(np.isfinite(value)):
            return False
        tolerance = fit_tolerance(narrow or (value.dtype.kind == "f" and value.dtype.itemsize <= 4))
        if scales and value.size and np.max(np.abs(value - hypothesis[name])) <= tolerance.rtol * scales.get(name, 0.0):
            continue
        if not compare(value, hypothesis[name], tensor=name, tolerance=tolerance).passed:
            return False
    return True


def transposed_tensors(yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> list[str]:
    """The tensors that are right only once transposed, if every other tensor is right as it is."""
    flipped = []
    for name, value in yours.items():
        if fits({name: value}, truth):
            continue
        if value.ndim == 2 and fits({name: value.T}, truth):
            flipped.append(name)
        else:
            return []
    return flipped


# ---------------------------------------------------------------------------
# One case's testimony, and the verdict of all cases together

Hypothesis = tuple[str, Callable[[], "Diagnosis"], "Mapping[str, np.ndarray] | None"]


@dataclass(frozen=True)
class Trial:
    """What one case says about the known mistakes.

    ``applies``: the mistakes that would change this case's numbers; ``fits``: those that
    reproduce the user's numbers, each with its diagnosis; ``unknown``: the evidence when
    no mistake is named.
    """

    applies: frozenset[str]
    fits: Mapping[str, "Diagnosis"]
    unknown: "Diagnosis"
    failed: bool
    # Mistakes read off another case's numbers ("W1 is m times too large") are tested here on demand.
    probe: Callable[[str], tuple[bool, "Diagnosis | None"]] | None = None

    def testimony(self, key: str) -> tuple[bool, "Diagnosis | None"]:
        """Whether the mistake ``key`` would change this case's numbers, and its diagnosis if it reproduces them."""
        if key in self.applies or self.probe is None or not key.startswith(SCALED):
            return key in self.applies, self.fits.get(key)
        return self.probe(key)


class Deferred:
    """A case's :class:`Trial`, built only when a settlement asks it something: when every case passes,
    no mistake is ever recomputed (that is most of what a passing check would cost)."""

    def __init__(self, failed: bool, make: Callable[[], Trial]) -> None:
        self.failed = failed
        self._make = make
        self._trial: Trial | None = None

    def _built(self) -> Trial:
        if self._trial is None:
            self._trial = self._make()
        return self._trial

    @property
    def fits(self) -> Mapping[str, "Diagnosis"]:
        return self._built().fits

    @property
    def unknown(self) -> "Diagnosis":
        return self._built().unknown

    def testimony(self, key: str) -> tuple[bool, "Diagnosis | None"]:
        return self._built().testimony(key)


def trial(hypotheses: Iterable[Hypothesis], yours: Mapping[str, np.ndarray] | None, truth: Mapping[str, np.ndarray],
          failed: bool, narrow: bool = False) -> Trial:
    """Test each hypothesis (key, its diagnosis, the numbers it predicts) on one case.

    A case without finite numbers (the user's code raised, or overflowed) testifies to nothing.
    """
    if yours is None or not all(np.all(np.isfinite(np.asarray(v, dtype=complex))) for v in yours.values()):
        return Trial(frozenset(), {}, Diagnosis(None, "your code gave no finite numbers on this case"), failed)
    applies: set[str] = set()
    found: dict[str, Diagnosis] = {}
    scales = {n: float(np.max(np.abs(t), initial=0.0)) for n, t in truth.items()}
    for key, named, predicted in hypotheses:
        if predicted is None:
            continue  # the mistake cannot happen in this network
        expected = {n: predicted.get(n, truth[n]) for n in truth}
        if fits(truth, expected, narrow, scales):
            continue  # the mistake changes nothing here
        applies.add(key)
        if failed and key not in found and fits(yours, expected, narrow, scales):
            found[key] = named()
    return Trial(frozenset(applies), found, Diagnosis(None, evidence(yours or {}, truth)), failed)


def settle(trials: Sequence[Trial | Deferred]) -> list[Diagnosis | None]:
    """The diagnosis of each case, from every case at once (None for a case that passed).

    A mistake is named only if it reproduces every failing case where it would change the
    numbers, no passing case is one it would have changed, and it is the only mistake that
    does so on the case at hand; otherwise the cause is unknown, with the evidence.
    """
    failing = [t for t in trials if t.failed]
    if not failing:
        return [None] * len(trials)
    candidates = dict.fromkeys(k for t in failing for k in t.fits)
    said = {(id(t), k): t.testimony(k) for t in trials for k in candidates}
    standing = [k for k in candidates
                if all(said[id(t), k][1] is not None for t in failing if said[id(t), k][0])
                and not any(said[id(t), k][0] for t in trials if not t.failed)]
    out: list[Diagnosis | None] = []
    for t in trials:
        here = [k for k in standing if said[id(t), k][1] is not None]
        if not t.failed:
            out.append(None)
        elif len(here) == 1:
            out.append(said[id(t), here[0]][1])
        elif here:
            named = [said[id(t), k][1] for k in here[:2]]
            words = " and ".join(str(d.cause or d.bug.cause) for d in named if d is not None and d.bug)
            out.append(Diagnosis(None, f"{len(here)} known mistakes fit your numbers equally well ({words}); "
                                       f"{t.unknown.evidence}"))
        else:
            refuted = [k for k in candidates if k in t.fits]
            why = "; a known mistake fits this case but not the others" if refuted else ""
            out.append(Diagnosis(None, t.unknown.evidence + why))
    return out


# Constant factors a gradient may be off by, in the words of the course: "W1 is m times too large".
def _factors(m: int, k: int) -> dict[str, tuple[float, str]]:
    return {"m": (m, f"m = {m} times too large"), "1/m": (1 / m, f"m = {m} times too small"),
            "k": (k, f"k = {k} times too large"), "1/k": (1 / k, f"k = {k} times too small"),
            "2": (2.0, "twice too large"), "1/2": (0.5, "half as large as it should be"),
            "-1": (-1.0, "of the wrong sign")}


_FACTOR_FIX = {"m": "divide it by m once: the 1/m of G_{L+1} = (S − I_y)/m reaches every layer",
               "1/m": "divide by m only once, at G_{L+1} = (S − I_y)/m",
               "k": "look for a factor k (the number of classes) on this tensor's path; average over the batch only",
               "1/k": "average over the batch (m rows), not over the k classes, on this tensor's path",
               "2": "look for a factor 2 on this tensor's path (a loss written as a sum of two terms, a doubled update)",
               "1/2": "look for a stray 1/2 on this tensor's path",
               "-1": "∇_h ℓ_ce = S − I_y; check the sign on this tensor's path"}
_CATALOGUED_FACTORS = {"m": "sum_instead_of_mean", "1/m": "divided_by_m_twice", "-1": "sign_flip"}


def scaled_hypotheses(problem: Problem, yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                      narrow: bool = False) -> list[Hypothesis]:
    """"W1 is m times too large": each wrong tensor a constant multiple of the right one.

    Found from the user's numbers; several readings (m = k) are all offered and the other
    cases decide between them. Uniform factors that are catalogued mistakes are left to them.
    """
    factors = _factors(len(problem.X), problem.arch.widths[-1])
    readings: dict[str, list[str]] = {}
    for name, value in yours.items():
        t = truth.get(name)
        if t is None or np.shape(value) != np.shape(t):
            return []
        if fits({name: value}, {name: t}, narrow):
            continue
        options = [f for f, (c, _) in factors.items() if fits({name: value}, {name: c * t}, narrow)]
        if not options:
            return []
        readings[name] = options
    if not readings:
        return []
    out: list[Hypothesis] = []
    for choice in itertools.product(*readings.values()):
        chosen = dict(zip(readings, choice))
        uniform = len(set(choice)) == 1 and len(chosen) == len(yours)
        if uniform and _CATALOGUED_FACTORS.get(choice[0]) and (problem.reduction == "mean" or choice[0] == "-1"):
            continue
        if set(choice) == {"1/m"} and all(n.startswith("b") for n in chosen) and problem.reduction == "mean":
            continue  # biases averaged again: bias_not_summed, below
        out.append(scaled(problem, truth, SCALED + ",".join(f"{n}={f}" for n, f in chosen.items())))
    return out


SCALED = "scaled_gradient:"


def scaled(problem: Problem, truth: Mapping[str, np.ndarray], key: str) -> Hypothesis:
    """The hypothesis ``scaled_gradient:W1=m,…`` on ``problem``: each named tensor that multiple of the right one."""
    factors = _factors(len(problem.X), problem.arch.widths[-1])
    chosen = dict(part.split("=") for part in key[len(SCALED):].split(","))
    if not set(chosen) <= set(truth):
        return key, lambda: Diagnosis(None, ""), None
    if len(chosen) > 1 and len(set(chosen.values())) == 1:
        cause = f"your {', '.join(chosen)} are all {factors[next(iter(chosen.values()))][1]}"
    else:
        cause = "; ".join(f"{n} is {factors[f][1]}" for n, f in chosen.items())
    fix = "; ".join(dict.fromkeys(_FACTOR_FIX[f] for f in chosen.values()))
    return (key, lambda: Diagnosis(CATALOG["scaled_gradient"], f"every entry of {', '.join(chosen)} is that "
                                   f"multiple of the right one on the {problem.describe()} problem", cause=cause, fix=fix),
            {n: factors[f][0] * truth[n] for n, f in chosen.items()})


def _probe(problem: Problem, yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray], failed: bool,
           narrow: bool) -> Callable[[str], tuple[bool, "Diagnosis | None"]]:
    def probe(key: str) -> tuple[bool, Diagnosis | None]:
        t = trial([scaled(problem, truth, key)], yours, truth, failed, narrow)
        return key in t.applies, t.fits.get(key)
    return probe


def _activation_hypotheses(problem: Problem) -> list[Hypothesis]:
    """"Your code matches tanh": the network recomputed with another hidden σ."""
    from reference_mlp import activations

    hidden = [s for s in problem.arch.activations[:-1]]
    if not hidden or len({s.name for s in hidden}) != 1 or hidden[0].name == "identity":
        return []
    current = hidden[0].name
    out: list[Hypothesis] = []
    for other in ("relu", "sigmoid", "tanh"):
        if other == current:
            continue
        sigma = activations.get(other)
        out.append((f"other_activation:{other}", lambda other=other: Diagnosis(
            CATALOG["other_activation"], f"recomputing the network with σ = {other} reproduces your numbers on the "
            f"{problem.describe()} problem",
            cause=f"your code computes σ = {other}, not the σ = {current} it is checked for",
            fix=f"if the assignment asks for {other}, check it for {other} (gradcheck check --activation {other}; "
                f"in a spec, activation = \"{other}\"); otherwise use {current} in the forward and backward pass"),
            variant_gradients(problem, hidden=sigma)))
    return out


def gradient_hypotheses(problem: Problem, yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                        narrow: bool = False) -> list[Hypothesis]:
    """Every known mistake of a gradient function, as the numbers it predicts on ``problem``."""
    out: list[Hypothesis] = []
    flipped = [n for n, v in yours.items() if np.ndim(v) == 2 and np.shape(v) == np.shape(truth[n])[::-1]
               and fits({n: np.asarray(v).T}, {n: truth[n]}, narrow)]
    if flipped:
        out.append(("transposed", lambda: known("transposed", f"your {', '.join(flipped)} equal"
                                                f"{'s' if len(flipped) == 1 else ''} the right gradient transposed"),
                    {n: truth[n].T for n in flipped}))
    names = [n for n in yours if n.startswith("W")]
    if len(names) >= 2:
        out.append(("swapped_outputs", lambda: known("swapped_outputs", "your first and last weight gradients "
                                                     "equal the right ones swapped"),
                    {names[0]: truth[names[-1]], names[-1]: truth[names[0]]}))
    tensors = ", ".join(sorted(yours))
    for bug_id, hypothesis in GRADIENT_HYPOTHESES:
        out.append((bug_id, lambda bug_id=bug_id: known(bug_id, f"recomputing with this mistake reproduces your "
                                                                f"{tensors} on the {problem.describe()} problem"),
                    hypothesis(problem)))
    out += _activation_hypotheses(problem)
    out += scaled_hypotheses(problem, yours, truth, narrow)
    return out


def gradient_trial(problem: Problem, yours: Mapping[str, np.ndarray] | None, truth: Mapping[str, np.ndarray],
                   failed: bool = True, narrow: bool = False) -> Trial:
    """One case of a gradient function, against every known mistake."""
    yours = None if yours is None else {n: np.asarray(v) for n, v in yours.items()}
    truth = {n: truth[n] for n in (yours or truth) if n in truth}
    if yours is None:
        return trial((), None, truth, failed, narrow)
    return replace(trial(gradient_hypotheses(problem, yours, truth, narrow), yours, truth, failed, narrow),
                   probe=_probe(problem, yours, truth, failed, narrow))


def diagnose(problem: Problem, yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> Diagnosis:
    """The diagnosis of one failing case on its own (a check with several cases settles them together)."""
    (found,) = settle([gradient_trial(problem, yours, truth)])
    assert found is not None
    return found


def evidence(yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> str:
    facts = []
    for name, value in yours.items():
        expected = truth.get(name)
        if expected is None or value.shape != expected.shape:
            continue
        good = np.isfinite(value) & (np.abs(expected) > 1e-3 * np.max(np.abs(expected), initial=0.0))
        if not good.any():
            continue
        ratio = value[good] / expected[good]
        lo, hi = float(np.min(ratio)), float(np.max(ratio))
        facts.append(f"{name}: yours/expected ranges over [{lo:.3g}, {hi:.3g}]")
    return "no known mistake reproduces your numbers" + ("; " + "; ".join(facts) if facts else "")


def with_diagnosis(comparison, diagnosis: Diagnosis | None):
    """The same comparison record, carrying its diagnosis."""
    if diagnosis is None:
        return comparison
    return replace(comparison, diagnosis=str(diagnosis), bug=None if diagnosis.bug is None else diagnosis.bug.id)


# ---------------------------------------------------------------------------
# Hypotheses about SGD epochs: the same mistakes, plus the minibatch loop's own


def epoch_deltas(
    problem: Problem,
    lr: float,
    batch: int,
    *,
    rule: Callable[[Problem], Mapping[str, np.ndarray] | None] = variant_gradients,
    skip_partial: bool = False,
    sequential: str | None = None,
) -> dict[str, np.ndarray] | None:
    """ΔWᵢ after one epoch of minibatch SGD whose per-batch gradient is ``rule``.

    ``skip_partial`` drops the last smaller batch; ``sequential`` updates W₁
    before computing ∇W₂, either recomputing the whole gradient (``"full"``)
    or only the hidden activation (``"activation"``).
    """
    params = problem.params
    start = params
    m = len(problem.X)
    stop = (m // batch) * batch if skip_partial else m
    for i in range(0, stop, batch):
        part = replace(problem, X=problem.X[i:i + batch], y=problem.y[i:i + batch], params=params)
        grads = rule(part)
        if grads is None or any(grads[f"W{j}"].shape != w.shape for j, w in enumerate(params.W, start=1)):
            return None  # the mistake does not apply, or could not update weights of this shape
        W = list(params.W)
        W[0] = W[0] - lr * grads["W1"]
        if sequential and len(W) > 1:
            moved = replace(part, params=Params(tuple(W), params.b))
            if sequential == "full":
                late = rule(moved)
            else:  # the old S − I_y, with the hidden layer recomputed from the new W₁
                late = dict(grads)
                hidden = part.arch.activations[0](np.asarray(part.X, float) @ W[0])
                late["W2"] = hidden.T @ _output_delta(part)
            W[1] = W[1] - lr * late["W2"]
            W[2:] = [w - lr * late[f"W{j}"] for j, w in enumerate(W[2:], start=3)]
        else:
            W[1:] = [w - lr * grads[f"W{j}"] for j, w in enumerate(W[1:], start=2)]
        params = Params(tuple(W), params.b)
    return {f"W{j}": new - old for j, (new, old) in enumerate(zip(params.W, start.W), start=1)}


def _output_delta(problem: Problem) -> np.ndarray:
    """G_{L+1} = (S − I_y)/m of a problem (the sum form for ``reduction="sum"``)."""
    h = mlp.forward(problem.arch, problem.params, np.asarray(problem.X, float)).Z[-1]
    k = h.shape[1]
    G = softmax(h) - one_hot(np.asarray(problem.y, np.intp), k)
    return G / len(h) if problem.reduction == "mean" else G


def epoch_hypotheses(problem: Problem, lr: float, batch: int) -> list[Hypothesis]:
    """Every epoch hypothesis on ``problem``, as the weight changes ΔW it predicts."""
    m = len(problem.X)
    epoch = lambda bug_id: (lambda: known(bug_id, f"an epoch with this mistake reproduces your weight changes on "
                                                  f"the {problem.describe()} problem"))
    out: list[Hypothesis] = [
        ("skipped_partial_batch", epoch("skipped_partial_batch"), epoch_deltas(problem, lr, batch, skip_partial=True)),
        # Eq. 16 on the last, partial minibatch divided by batch instead of its own size
        ("partial_batch_nominal_size", epoch("partial_batch_nominal_size"),
         epoch_deltas(problem, lr, batch, rule=lambda q: variant_gradients(q, scale=len(q.X) / batch))),
        ("updated_weights", epoch("updated_weights"), epoch_deltas(problem, lr, batch, sequential="full")),
        ("updated_weights", epoch("updated_weights"), epoch_deltas(problem, lr, batch, sequential="activation")),
    ]
    for size in range(1, m + 1):  # a batch size written into the code: every size the data allows
        if size == batch or (size == m and batch >= m):
            continue
        whole = size >= m
        words = ("the whole data is taken as one minibatch" if whole else f"minibatches have a fixed size of {size}")
        out.append((f"hard_coded_batch_size:{'all' if whole else size}",
                    lambda words=words, size=size: Diagnosis(
                        CATALOG["hard_coded_batch_size"], f"an epoch with minibatches of {size} reproduces your "
                        f"weight changes on the {problem.describe()} problem",
                        cause=f"the batch argument (batch = {batch}) is ignored: {words}"),
                    epoch_deltas(problem, lr, size)))
    for bug_id, rule in GRADIENT_HYPOTHESES:
        out.append((bug_id, epoch(bug_id), epoch_deltas(problem, lr, batch, rule=rule)))
    return out


def epoch_trial(problem: Problem, yours: Mapping[str, np.ndarray] | None, truth: Mapping[str, np.ndarray],
                lr: float, batch: int, failed: bool = True, narrow: bool = False) -> Trial:
    """One epoch case, against every known mistake of an SGD epoch."""
    if yours is None:
        return trial((), None, truth, failed, narrow)
    yours = {n: np.asarray(v) for n, v in yours.items()}
    hypotheses = epoch_hypotheses(problem, lr, batch) + scaled_hypotheses(problem, yours, truth, narrow)
    return replace(trial(hypotheses, yours, truth, failed, narrow), probe=_probe(problem, yours, truth, failed, narrow))


def diagnose_epoch(problem: Problem, yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                   lr: float, batch: int) -> Diagnosis:
    """Name the mistake whose epoch reproduces the user's weight changes ΔW, on this case alone."""
    (found,) = settle([epoch_trial(problem, yours, truth, lr, batch)])
    assert found is not None
    return found


# ---------------------------------------------------------------------------
# Hypotheses about single layers (CS231n style), given the upstream gradient


def layer_hypotheses(layer: str, inputs: tuple[np.ndarray, ...], dout: np.ndarray) -> tuple[tuple[str, dict], ...]:
    """Each mistake's version of the layer's backward outputs, keyed like the check's tensors."""
    if layer == "affine":
        x, w, _ = inputs
        flat = x.reshape(len(x), -1)  # x is (N, d₁, …, d_k), used as (N, D)
        right = {"dx": (dout @ w.T).reshape(x.shape), "dw": flat.T @ dout}
        db = dout.sum(axis=0)
        return (
            ("bias_wrong_axis", {**right, "db": dout.sum(axis=1)}),
            ("bias_not_summed", {**right, "db": dout.mean(axis=0)}),
            ("bias_kept_dimension", {**right, "db": db[None, :]}),
            ("bias_kept_dimension", {**right, "db": db[:, None]}),
        )
    if layer == "softmax_loss":
        (logits, y) = inputs
        m, k = logits.shape
        G = softmax(logits) - one_hot(np.asarray(y, np.intp), k)
        return (("sum_instead_of_mean", {"dx": G}), ("sign_flip", {"dx": -G / m}),
                ("divided_by_m_twice", {"dx": G / m**2}))
    from reference_mlp import activations

    sigma = activations.get(layer)
    (x,) = inputs
    rows = [("missing_sigma_prime", {"dx": dout}),
            ("sigma_prime_at_activation", {"dx": dout * sigma.derivative(sigma(x))})]
    form = _OUTPUT_FORM.get(sigma.name)
    if form is not None:
        rows.append(("output_formula_at_preactivation", {"dx": dout * form(x)}))
    return tuple(rows)


def diagnose_layer(layer: str, inputs: tuple[np.ndarray, ...], dout: np.ndarray,
                   yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray], narrow: bool = False) -> Diagnosis:
    """Name the mistake that reproduces a layer's backward outputs (and no other mistake does)."""
    yours = {n: np.asarray(v) for n, v in yours.items()}
    words = lambda: f"recomputing {layer}'s backward with this mistake reproduces your {', '.join(sorted(yours))}"
    hypotheses: list[Hypothesis] = [(bug_id, lambda bug_id=bug_id: known(bug_id, words()), expected)
                                    for bug_id, expected in layer_hypotheses(layer, inputs, dout)]
    flipped = [n for n, v in yours.items() if v.ndim == 2 and v.shape == np.shape(truth[n])[::-1]
               and fits({n: v.T}, {n: truth[n]}, narrow)]
    if flipped:
        hypotheses.insert(0, ("transposed", lambda: known("transposed", f"your {', '.join(flipped)} equal"
                                                          f"{'s' if len(flipped) == 1 else ''} the right gradient "
                                                          "transposed"), {n: truth[n].T for n in flipped}))
    (found,) = settle([trial(hypotheses, yours, dict(truth), True, narrow)])
    assert found is not None
    return found
