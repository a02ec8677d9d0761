"""Name the bug behind a wrong gradient by testing known mistakes one at a time.

Each entry of the catalog is a hypothesis: "the user forgot σ'", "the user
summed instead of averaging", … For each, gradcheck recomputes the gradient
*with that mistake injected* into an otherwise textbook backprop and asks
whether it reproduces the user's numbers. A diagnosis is stated only when one
does; otherwise the cause is reported as unknown, with the evidence. A wrong
confident diagnosis is worse than none, so a hypothesis that coincides with
the correct gradient on the problem at hand (σ' at the activation, for ReLU)
is never offered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping

import numpy as np

from gradcheck.compare import Tolerance, compare, tolerance_for
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
     "work on copies (X = X - …, not X -= …); never write into X, y or the weights you are given"),
    ("updated_weights", "∇W₂ is computed with W₁ already updated in this step",
     "compute every gradient of the batch first, then update all weights"),
    ("skipped_partial_batch", "the last, partial minibatch is skipped (range(m // batch))",
     "loop for i in range(0, m, batch) so the final smaller batch is used too"),
    ("hard_coded_batch_size", "the batch argument is ignored: minibatches have a fixed size of 100",
     "slice X[i:i + batch] with the batch size you are given"),
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
)


@dataclass(frozen=True)
class Diagnosis:
    """The probable cause of a failure, or ``bug=None`` with the evidence when it is unknown."""

    bug: Bug | None
    evidence: str

    def __str__(self) -> str:
        if self.bug is None:
            return f"cause unknown; {self.evidence}"
        return f"{self.bug.cause}. Fix: {self.bug.fix}. (Evidence: {self.evidence}.)"


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
) -> dict[str, np.ndarray] | None:
    """∇Wᵢ, ∇bᵢ as Eqs. 14 and 15 give them, with one mistake switched on.

    Returns None when the mistake does not apply to this network.
    """
    arch, params, X = problem.arch, problem.params, np.asarray(problem.X, dtype=np.float64)
    params = Params(tuple(np.asarray(W, np.float64) for W in params.W),
                    tuple(None if b is None else np.asarray(b, np.float64) for b in params.b))
    sigmas = list(arch.activations)
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
        if params.b[i] is not None:
            grads[f"b{i + 1}"] = delta.sum(axis=0)
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
    ("mean_over_classes", lambda p: variant_gradients(p, scale=len(p.X) / p.arch.widths[-1])
     if p.reduction == "mean" and len(p.X) != p.arch.widths[-1] else None),
)


def _loose(dtype: np.dtype) -> Tolerance:
    base = tolerance_for(dtype)
    return Tolerance(base.rtol * 1e3, base.floor, base.noise)


def fits(yours: Mapping[str, np.ndarray], hypothesis: Mapping[str, np.ndarray]) -> bool:
    """True when every tensor the user gave matches the hypothesis (same shape, within a loose tolerance)."""
    for name, value in yours.items():
        if name not in hypothesis:
            return False
        value = np.asarray(value)
        if value.shape != hypothesis[name].shape or not np.all(np.isfinite(value)):
            return False
        if not compare(value, hypothesis[name], tensor=name, tolerance=_loose(value.dtype)).passed:
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


def _swapped(yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> bool:
    names = [n for n in yours if n.startswith("W")]
    if len(names) < 2:
        return False
    swapped = dict(yours)
    swapped[names[0]], swapped[names[-1]] = yours[names[-1]], yours[names[0]]
    return fits(swapped, truth)


def diagnose(problem: Problem, yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> Diagnosis:
    """Test every hypothesis against the user's gradients on ``problem`` and name the one that fits."""
    yours = {n: np.asarray(v) for n, v in yours.items()}
    truth = {n: truth[n] for n in yours if n in truth}
    flipped = transposed_tensors(yours, truth)
    if flipped:
        return known("transposed", f"your {', '.join(flipped)} equal{'s' if len(flipped) == 1 else ''} the right gradient transposed")
    if _swapped(yours, truth):
        return known("swapped_outputs", "your first and last weight gradients equal the right ones swapped")
    for bug_id, hypothesis in GRADIENT_HYPOTHESES:
        expected = hypothesis(problem)
        if expected is None or fits({n: truth[n] for n in yours if n in truth}, expected):
            continue  # the mistake does not apply here, or changes nothing on this problem
        if fits(yours, expected):
            return known(bug_id, f"recomputing with this mistake reproduces your {', '.join(sorted(yours))} on the {problem.describe()} problem")
    return Diagnosis(None, evidence(yours, truth))


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


def epoch_hypotheses(lr: float, batch: int) -> tuple[tuple[str, Callable[[Problem], dict | None]], ...]:
    """Every epoch hypothesis, as functions of the problem giving ΔW."""
    rules = tuple(
        (bug_id, lambda p, rule=rule: epoch_deltas(p, lr, batch, rule=lambda q, rule=rule: rule(q)))
        for bug_id, rule in GRADIENT_HYPOTHESES
    )
    return (
        ("skipped_partial_batch", lambda p: epoch_deltas(p, lr, batch, skip_partial=True)),
        ("hard_coded_batch_size", lambda p: epoch_deltas(p, lr, 100) if batch != 100 else None),
        ("updated_weights", lambda p: epoch_deltas(p, lr, batch, sequential="full")),
        ("updated_weights", lambda p: epoch_deltas(p, lr, batch, sequential="activation")),
    ) + rules


def diagnose_epoch(problem: Problem, yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                   lr: float, batch: int) -> Diagnosis:
    """Name the mistake whose epoch reproduces the user's weight changes ΔW."""
    yours = {n: np.asarray(v) for n, v in yours.items()}
    for bug_id, hypothesis in epoch_hypotheses(lr, batch):
        expected = hypothesis(problem)
        if expected is None or fits(truth, expected):
            continue
        if fits(yours, expected):
            return known(bug_id, f"an epoch with this mistake reproduces your weight changes on the {problem.describe()} problem")
    return Diagnosis(None, evidence(yours, truth))


# ---------------------------------------------------------------------------
# Hypotheses about single layers (CS231n style), given the upstream gradient


def layer_hypotheses(layer: str, inputs: tuple[np.ndarray, ...], dout: np.ndarray) -> tuple[tuple[str, dict], ...]:
    """Each mistake's version of the layer's backward outputs, keyed like the check's tensors."""
    if layer == "affine":
        x, w, _ = inputs
        flat = x.reshape(len(x), -1)  # x is (N, d₁, …, d_k), used as (N, D)
        right = {"dx": (dout @ w.T).reshape(x.shape), "dw": flat.T @ dout}
        return (
            ("bias_wrong_axis", {**right, "db": dout.sum(axis=1)}),
            ("bias_not_summed", {**right, "db": dout.mean(axis=0)}),
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
                   yours: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> Diagnosis:
    """Name the mistake that reproduces a layer's backward outputs."""
    yours = {n: np.asarray(v) for n, v in yours.items()}
    flipped = transposed_tensors(yours, truth)
    if flipped:
        return known("transposed", f"your {', '.join(flipped)} equal{'s' if len(flipped) == 1 else ''} the right gradient transposed")
    for bug_id, expected in layer_hypotheses(layer, inputs, dout):
        expected = {**truth, **expected}
        if not fits(truth, expected) and fits(yours, expected):
            return known(bug_id, f"recomputing {layer}'s backward with this mistake reproduces your {', '.join(sorted(yours))}")
    return Diagnosis(None, evidence(yours, truth))
