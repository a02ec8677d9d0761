"""What every check shares: calling user code on each case, judging it against the oracle, diagnosing."""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import re
import zlib
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence

import numpy as np

from gradcheck import adapters, diagnose, equations, finite_diff, precision
from gradcheck.compare import NONFINITE, STABILITY, Comparison, Tolerance, compare, failed, tolerance_for
from gradcheck.precision import Precision
from gradcheck.problems import Case
from gradcheck.verification import along_directions
from gradcheck.witnesses import Problem, closed_form, jax_autodiff
from reference_mlp import activations, loss, mlp
from reference_mlp.validation import InvalidArgument, check_choice

YOURS = "yours"
DEFAULT_ACTIVATIONS = ("relu", "sigmoid", "tanh")
# The witness user code is judged against: the seed's equations (which need no JAX at all), or JAX autodiff.
# "auto" judges by the equations and backs them with two independent witnesses: finite differences along
# random directions for every gradient, and JAX for every gradient that disagrees, so a failure is confirmed
# by autodiff and a pass costs no JAX import.
TRUTHS = {"auto": "closed form", "jax": "JAX", "closed-form": "closed form"}
AUTO_DIRECTIONS = 2  # random directions per tensor for the finite-difference witness behind "auto"
_TRUTH: contextvars.ContextVar[str] = contextvars.ContextVar("gradcheck_truth", default="auto")


@contextlib.contextmanager
def judged_by(witness: str) -> Iterator[None]:
    """Within the block, compare user code with ``witness``: ``"auto"`` (default), ``"jax"`` or ``"closed-form"``."""
    token = _TRUTH.set(check_choice("witness", witness, tuple(TRUTHS)))
    try:
        yield
    finally:
        _TRUTH.reset(token)


def _jax_decides() -> bool:
    return _TRUTH.get() == "jax"


def truth_name() -> str:
    """The name of the witness in force, as reports print it."""
    return TRUTHS[_TRUTH.get()]


def oracle_gradients(problem: Problem, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The true gradients of a problem, by the witness in force."""
    truth = jax_autodiff(problem) if _jax_decides() else closed_form(problem)
    return {n: truth[n] for n in names}


def layer_vjp(layer: str, inputs: tuple[np.ndarray, ...], dout: np.ndarray) -> tuple[np.ndarray, ...]:
    """What a layer's backward must return for upstream ``dout``, by the witness in force.

    An affine layer's x may have shape (N, d₁, …, d_k): it is used as (N, D), and dx comes back in x's shape.
    """
    if layer == "affine":
        x, w, b = inputs
        flat = x.reshape(len(x), -1)
        if _jax_decides():
            from gradcheck import oracle

            dx, dw, db = oracle.layer_vjp(layer, (flat, w, b), dout)
        else:
            dx, dw, db = dout @ w.T, flat.T @ dout, dout.sum(axis=0)  # Eq. 14, Eq. 15 and its bias form
        return dx.reshape(x.shape), dw, db
    if _jax_decides():
        from gradcheck import oracle

        return oracle.layer_vjp(layer, inputs, dout)
    (x,) = inputs
    return (dout * activations.get(layer).derivative(x),)  # G ∘ σ'(Z)


def softmax_loss_gradient(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean cross-entropy of ``logits`` and its gradient (S − I_y)/m, by the witness in force."""
    if _jax_decides():
        from gradcheck import oracle

        return oracle.softmax_loss_gradient(logits, y)
    value, grad = loss.softmax_cross_entropy(logits, y, "mean")
    return float(value), grad


def unstable(records: Sequence[Comparison], evidence: str) -> list[Comparison]:
    """Mark the records that are NaN or infinite on a stability probe as a numerical-stability finding.

    Only a record whose every wrong entry is NaN or infinite (or that could not be read at all because of
    them) is excused: finite wrong entries beside an overflow are a gradient error.
    """
    found = diagnose.known("softmax_overflow", evidence)
    return [diagnose.with_diagnosis(replace(r, finding=STABILITY), found)
            if r.nonfinite and r.mismatches <= r.nonfinite_entries else r for r in records]


def pattern_diagnosis(case: Case, records: Sequence[Comparison], cases_failing: set[str]) -> diagnose.Diagnosis | None:
    """Diagnoses that show in which case failed rather than in the numbers."""
    nonfinite = any(c.note and "NaN" in c.note for c in records)
    if nonfinite and case.name == "large logits" and cases_failing <= {"large logits"}:
        return diagnose.known("softmax_overflow", "your gradients are NaN or infinite only when the logits are large")
    if case.name == "uint8 labels missing a class" and cases_failing <= {case.name}:
        return diagnose.known("one_hot_sized_by_labels", "only the batch without the largest class fails")
    return None


def testify(
    target: str,
    cases: Sequence[Case],
    run: Callable[[Problem], adapters.Call],
    names: Sequence[str] | Callable[[Problem], Sequence[str]],
    read: Callable[[Problem, adapters.Call], dict[str, np.ndarray] | str],
    equation_of: Callable[[str], equations.Equation],
    *,
    shown: Mapping[str, str] | None = None,
    yours: str = YOURS,
    explain: Callable[..., diagnose.Trial] = diagnose.gradient_trial,
    uncertainty: Callable[[Problem, str], np.ndarray] | None = None,
    directions: int = 0,
    precision: Precision | None = None,
) -> "Pending":
    """Run the user's code on every case and compare with the oracle; the diagnoses wait (see :class:`Pending`).

    ``names`` are the tensors to judge, or a function giving them for a
    problem (networks of several depths); ``read`` turns a call into gradients
    keyed by them (or says why it
    cannot); ``shown`` renames tensors for the report (``W1`` → ``theta``);
    ``uncertainty`` widens each entry's allowance by what reading it costs;
    ``directions`` adds the finite-difference witness along that many seeded
    random directions per tensor; ``precision`` (measured by :func:`measure`)
    sets the tolerance, else the dtypes compared do.
    """
    renamed = dict(shown or {})
    outcomes = []
    for case in cases:
        names_here = tuple(names(case.problem) if callable(names) else names)
        shown = {n: renamed.get(n, n) for n in names_here}
        call = run(case.problem)
        truth = oracle_gradients(case.problem, names_here)
        tolerance = None if precision is None else precision.tolerance_at(logit_scale(case.problem))
        context = dict(witnesses=(yours, truth_name()), problem=case.describe(), seed=case.seed)
        given = read(case.problem, call) if not call.error else f"your {target} raised {call.error}"
        if isinstance(given, str):
            records = [failed(shown[n], truth[n].shape, given, equation=equation_of(n), **context) for n in names_here]
            given = None
        else:
            records = [compare(given[n], truth[n], tensor=shown[n], equation=equation_of(n), tolerance=tolerance,
                               uncertainty=None if uncertainty is None else uncertainty(case.problem, n), **context)
                       for n in names_here]
            backed = directions or (AUTO_DIRECTIONS if _TRUTH.get() == "auto" else 0)
            records += along(case, given, records, backed, shown, equation_of, tolerance)
            records += confirmed(case, given, records, names_here, shown, equation_of, tolerance, yours, uncertainty)
        outcomes.append((case, records, given, truth, mutations(call, case)))
    narrow = precision is not None and precision.computes_in == np.float32
    # Every case testifies, failing or not: a mistake is named only if it explains all of them.
    trials = [diagnose.Deferred(any(r.failed for r in records), lambda case=case, given=given, truth=truth, records=records:
                                explain(case.problem, given, truth, failed=any(r.failed for r in records), narrow=narrow))
              for case, records, given, truth, _ in outcomes]
    return Pending(outcomes, trials)


@dataclass
class Pending:
    """A check's records whose diagnoses wait until every case of the check has testified.

    A check judged in parts (one part per activation, one-step and whole-epoch cases) settles
    the trials of all its parts together, so that a mistake is named only if it explains them all.
    """

    outcomes: list
    trials: list[diagnose.Trial | diagnose.Deferred]

    def resolve(self, found: Sequence[diagnose.Diagnosis | None]) -> list[Comparison]:
        """The records, each failing one carrying its case's diagnosis from ``found`` (one per trial)."""
        failing = {case.name for case, records, *_ in self.outcomes if any(r.failed for r in records)}
        results = []
        for (case, records, given, truth, mutated), diagnosis in zip(self.outcomes, found):
            if any(r.failed for r in records):
                diagnosis = pattern_diagnosis(case, records, failing) or (diagnosis if given is not None else None)
                records = [r if not r.failed else diagnose.with_diagnosis(r, diagnosis) for r in records]
            if case.stability:
                records = unstable(records, f"your gradients are {NONFINITE} on the {case.name} problem")
            results.extend(records)
            results.extend(mutated)
        return results


def resolve_together(*parts: Pending) -> list[list[Comparison]]:
    """Settle the trials of every part at once, and give each part its records."""
    found = diagnose.settle([t for part in parts for t in part.trials])
    out, start = [], 0
    for part in parts:
        out.append(part.resolve(found[start:start + len(part.trials)]))
        start += len(part.trials)
    return out


def judge_cases(*args: Any, **kwargs: Any) -> list[Comparison]:
    """Run the user's code on every case, compare with the oracle and diagnose what fails (see :func:`testify`)."""
    (records,) = resolve_together(testify(*args, **kwargs))
    return records


def confirmed(case: Case, given: dict, records: Sequence[Comparison], names: Sequence[str], shown: Mapping[str, str],
              equation_of: Callable[[str], equations.Equation], tolerance: Tolerance | None, yours: str,
              uncertainty: Callable[[Problem, str], np.ndarray] | None = None) -> list[Comparison]:
    """Under "auto", every tensor the closed form says is wrong judged again by JAX: a failure two witnesses agree on."""
    # NaN or infinity where the closed form is finite needs no second opinion (and a stability probe would warn twice)
    wrong = [n for n, r in zip(names, records) if r.failed and not (r.nonfinite and r.mismatches <= r.nonfinite_entries)]
    if _TRUTH.get() != "auto" or not wrong:
        return []
    truth = jax_autodiff(case.problem)
    return [compare(given[n], truth[n], tensor=shown[n], equation=equation_of(n), tolerance=tolerance,
                    uncertainty=None if uncertainty is None else uncertainty(case.problem, n),
                    witnesses=(yours, "JAX"), problem=case.describe(), seed=case.seed) for n in wrong]


def along(case: Case, given: dict, records: Sequence[Comparison], directions: int, shown: Mapping[str, str],
          equation_of: Callable[[str], equations.Equation], tolerance: Tolerance | None = None) -> list[Comparison]:
    """The finite-difference witness on every tensor that arrived whole (right shape, finite)."""
    whole = {n: given[n] for n, r in zip(shown, records) if r.actual_shape == r.expected_shape and not r.note}
    if not directions or not whole:
        return []
    out = along_directions(case.problem, whole, directions=directions, seed=case.seed or 0, tolerance=tolerance)
    return [replace(c, tensor=c.tensor.replace(n, shown[n], 1), equation=equation_of(n), problem=case.describe(), seed=case.seed)
            for c in out for n in [c.tensor.split("·")[0]]]


def precision_summary(measured: Mapping[str, Precision]) -> str | None:
    """One line for many functions: ``computes in float32 (…)`` for each group that computes alike.

    Plain float64 arithmetic goes unsaid; None when there is nothing else to say.
    """
    groups: dict[str, list[str]] = {}
    for name, p in measured.items():
        if p.notable:
            groups.setdefault(p.words(), []).append(name)
    if not groups:
        return None
    def plural(words: str, many: bool) -> str:
        return words.replace("computes", "compute", 1).replace("its results", "their results", 1) if many else words

    return "; ".join(f"your {', '.join(names)} {plural(words, len(names) > 1)}" for words, names in groups.items())


def logit_scale(problem: Problem) -> float:
    """The size of the logits that matter to the softmax: |row max| + 30 at most, over the rows.

    Softmax is shift-invariant and exp(h − max h) < e⁻³⁰ is nothing next to 1, so only logits within 30
    of their row's max weigh in, and their size is that of the row max give or take 30.
    """
    h = mlp.forward(problem.arch, problem.params, problem.X).Z[-1]
    return float(np.max(np.abs(h.max(axis=1)), initial=0.0)) + 30.0 if h.size else 0.0


def measure(
    case: Case,
    run: Callable[[Problem], adapters.Call],
    names: Sequence[str],
    read: Callable[[Problem, adapters.Call], dict[str, np.ndarray] | str],
    *,
    shown: Mapping[str, str] | None = None,
    noise: Callable[[Problem, str], np.ndarray] | None = None,
) -> Precision:
    """The precision the user's code computes in, probed on ``case`` (see :mod:`gradcheck.precision`)."""
    shown = shown or {}

    def outputs(p: Problem) -> list[np.ndarray] | None:
        call = run(p)
        given = None if call.error else read(p, call)
        return None if not isinstance(given, dict) else [np.asarray(given[n]) for n in names]

    bound = None if noise is None else (lambda p: [noise(p, n) for n in names])
    return precision.probe(outputs, case.problem, shown=lambda n: shown.get(n, n), noise=bound)


def accepts(fn: Callable, name: str) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def callable_or_raise(fn: Any, what: str) -> Callable:
    if not callable(fn):
        raise InvalidArgument(f"{what} must be a function; got {type(fn).__name__} {fn!r}.")
    return fn


def two_layer_equation(name: str, depth: int) -> equations.Equation:
    return equations.for_tensor(name, depth, two_layer_form=True)


def mutations(c: adapters.Call, case: Case) -> list[Comparison]:
    """The in-place changes a call made to its inputs, each a failure diagnosed as such."""
    return mutation_records(c.mutated, case.describe(), case.seed)


def mutation_records(mutated: Sequence[Comparison], problem: str | None, seed: int | None) -> list[Comparison]:
    """Before/after comparisons of changed inputs, placed in their problem and diagnosed."""
    return [diagnose.with_diagnosis(replace(m, problem=problem or m.problem, seed=seed),
                                    diagnose.known("inputs_mutated", f"{m.tensor} changed during the call"))
            for m in mutated]


MODEL_FD = "finite differences of your loss"
PER_ENTRY = 48  # tensors up to this size get per-entry differences; larger ones two random directions


class Directions(NamedTuple):
    """Directional differences of ``phi`` at ``x``: ``(v, Directional)`` pairs, and what locating an error needs."""

    pairs: list[tuple[np.ndarray, finite_diff.Directional]]
    phi: Callable[[np.ndarray], float]
    x: np.ndarray
    seed: int


def differences(phi: Callable[[np.ndarray], float], x: np.ndarray, rng: np.random.Generator,
                precision: np.dtype | None = None) -> finite_diff.Estimate | Directions:
    """Richardson differences of ``phi`` at ``x``, truncation counted: per entry (an ``Estimate``) for up to
    ``PER_ENTRY`` entries, else along two random ±[0.5, 1.5] directions."""
    if x.size <= PER_ENTRY:
        return finite_diff.gradient(phi, x, method="richardson", precision=precision, truncation=True)
    vs = [rng.choice([-1.0, 1.0], x.shape) * rng.uniform(0.5, 1.5, x.shape) for _ in range(2)]
    return Directions([(v, finite_diff.directional(phi, x, v, precision=precision, truncation=True)) for v in vs],
                      phi, x, int(rng.integers(2 ** 31)))


def located(label: str, given: np.ndarray, directions: Directions) -> str:
    """Where ``given`` is wrong, found by group testing on the same differences (see :mod:`gradcheck.localize`)."""
    from gradcheck.localize import localize

    try:
        with np.errstate(all="ignore"):
            found = localize(directions.phi, directions.x, given, method="richardson", seed=directions.seed)
    except Exception as exc:  # the code misbehaving under the extra steps
        return f"locating the wrong entries failed: {adapters.describe_exception(exc)}"
    tensor = label.split()[-1]
    return where(lambda index: f"{tensor}[{', '.join(map(str, index))}]", found)


def where(name: Callable[[tuple[int, ...]], str], found: Any) -> str:
    """What group testing found (a :class:`gradcheck.localize.Localization`), in one line; ``name`` says
    what an index of the searched array is called."""
    if not found.found:
        return "group testing found no single wrong entry: the error is spread thinly over many entries"
    entries = ", ".join(f"{name(i)} off by {e:+.3g}"
                        for i, e in zip(found.wrong, found.errors))
    more = "" if found.complete else f"; more than {len(found.wrong)} entries are wrong (a structured error)"
    return f"located by group testing in {found.evaluations} evaluations: {entries or 'none singled out'}{more}"


def fd_records(label: str, given: np.ndarray, estimate: Any, tolerance: Tolerance, ctx: Mapping[str, Any],
               equation: equations.Equation, witness: str = "finite differences of your forward",
               oracle: str = "JAX (float64)") -> list[Comparison]:
    """``given`` against the finite differences of one input: entry by entry, or ⟨given, v⟩ per direction."""
    common = dict(witnesses=(YOURS, witness), tolerance=tolerance, equation=equation, **ctx)
    if estimate is None:  # not taken
        return []
    if isinstance(estimate, str):
        return [failed(label, np.shape(given), f"{witness} failed: {estimate}",
                       witnesses=(witness, oracle), **ctx)]
    if isinstance(estimate, finite_diff.Estimate):
        return [compare(given, estimate.values, tensor=label, uncertainty=estimate.error, checkable=estimate.checkable,
                        not_checkable_reason=estimate.reason, **common)]
    if np.shape(given) != estimate.x.shape:
        return []  # the oracle's record already says the shape is wrong
    records = []
    for k, (v, e) in enumerate(estimate.pairs, start=1):
        # ⟨given, v⟩ rounds on the scale of Σ|given·v|, not of the (possibly cancelling) sum
        magnitude = float(np.sum(np.abs(given * v)))
        records.append(compare(float(np.sum(given * v)), e.value if e.checkable else np.nan, tensor=f"{label}·v{k}",
                               uncertainty=np.asarray(tolerance.rtol * magnitude + e.error),
                               not_checkable_reason=e.reason, **common))
    if any(r.failed for r in records):  # a direction says the tensor is wrong: say where
        where = located(label, np.asarray(given, np.float64), estimate)
        records = [replace(r, note=where) if r.failed else r for r in records]
    return records


# What a handout's Cython extension (fast_layers' im2col_cython) missing looks like when code calls it. Not a
# gradient bug, and no seed settles it: such a check is INCONCLUSIVE with the build command as its advice.
EXTENSION = re.compile(r"cython|im2col", re.IGNORECASE)
BUILD = ("build the handout's Cython extension (in the cs231n folder: python setup.py build_ext --inplace) "
         "and check again")


def extension_missing(error: str | None) -> bool:
    """Whether ``error`` (what the code raised) is the handout's compiled extension missing."""
    return bool(error) and bool(EXTENSION.search(error))


def advice_for(records: Sequence[Comparison], default: str) -> str:
    """The build command when a record could not run for want of the extension, else ``default``."""
    return BUILD if any("compiled extension" in (r.not_checkable_reason or "") for r in records) else default


def handout_shape(given: np.ndarray, truth: np.ndarray, name: str) -> tuple[np.ndarray, str]:
    """A parameter's gradient or statistic in a shape that broadcasts entry for entry onto the right one ((1, D) for
    (D,), keepdims=True): the handout's notebook compares them by broadcasting (rel_error) and passes it, so it is
    judged in the oracle's shape, and the problem says so. A shape that broadcasts to more entries ((C,) against
    (1, C, 1, 1) pairs every entry with every other) fails the notebook, and fails here."""
    try:
        aligned = int(np.prod(np.broadcast_shapes(np.shape(given), np.shape(truth)))) == np.size(truth) == np.size(given)
    except ValueError:
        aligned = False
    if np.shape(given) != np.shape(truth) and aligned:
        said = f"; {name} returned as {np.shape(given)}, the handout's {np.shape(truth)}"
        return np.reshape(given, np.shape(truth)), said
    return given, ""


def not_run(label: str, shape: tuple[int, ...], why: str, ctx: Mapping[str, Any], oracle: str | None = None) -> Comparison:
    """A record that judged nothing because ``why``: INCONCLUSIVE, never a pass or a failure of this function."""
    return compare(np.zeros(shape), np.full(shape, np.nan), tensor=label, witnesses=(YOURS, oracle or truth_name()),
                   not_checkable_reason=f"not run: {why}", **ctx)


def model_differences(label: str, fresh: Callable[[], Any], key: str, params: Mapping[str, np.ndarray],
                      loss: Callable[[Any], Any], given: np.ndarray, equation: equations.Equation,
                      oracle: str, ctx: Mapping[str, Any]) -> list[Comparison]:
    """``given`` (a model's grads[key]) against finite differences of the model's own loss in params[key].

    ``fresh()`` builds the model with ``params``; ``loss(model)`` returns what its ``loss`` method returns,
    the loss first. Entry by entry for small tensors, along two random directions for large ones, with
    Richardson's truncation counted.
    """
    def own_loss(value: np.ndarray) -> float:
        model = fresh()
        # assigned whole, not entry by entry: a graded model lives in its sandbox
        model.params = {**{k: v.copy() for k, v in params.items()}, key: value}
        return float(np.reshape(np.asarray(loss(model)[0], dtype=np.float64), ()))

    rng = np.random.default_rng([ctx.get("seed") or 0, zlib.crc32(key.encode())])
    try:
        with np.errstate(all="ignore"):
            estimate = differences(own_loss, params[key], rng)
    except Exception as exc:  # the student's loss misbehaving under perturbation
        estimate = f"{adapters.describe_exception(exc)} in your {label}.loss"
    return fd_records(f"{label} {key}", given, estimate, tolerance_for(given.dtype), ctx, equation, MODEL_FD, oracle)


def model_gradient(label: str, grads: Mapping[str, Any], key: str, shape: tuple[int, ...], oracle: str,
                   ctx: Mapping[str, Any]) -> np.ndarray | Comparison:
    """A model's ``grads[key]`` as a float array, or the failed record that says why it cannot be read."""
    if key not in grads:
        return failed(f"{label} {key}", shape, f"grads has no key {key!r} (it has: {', '.join(map(str, grads)) or 'nothing'})",
                      witnesses=(YOURS, oracle), **ctx)
    got = adapters.as_float_array(grads[key])
    return failed(f"{label} {key}", shape, f"grads[{key!r}] is not numbers: {got}", witnesses=(YOURS, oracle), **ctx) \
        if isinstance(got, str) else got
