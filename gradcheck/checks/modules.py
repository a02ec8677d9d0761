"""Layer objects, module style: ``Linear(W)``, ``ReLU()``, ``Sigmoid()``, ``Tanh()`` and a loss object.

``Linear.forward(Z)`` returns ZW; ``Linear.backward(G)`` returns G Wᵀ (Eq. 14)
and stores Zᵀ G (Eq. 15) in an attribute (``dW`` by default). Activation
objects' ``backward(G)`` return G ∘ σ'(Z); the loss object's ``forward(logits, y)``
returns the mean loss and ``backward()`` returns (S − I_y)/m.

Every object is run through two forward/backward rounds on different inputs,
because the bugs of stateful code (a gradient that accumulates, a cache kept
from the first call) only show on the second. The objects are then chained
into a two-layer network checked against Eqs. 10 and 11.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from gradcheck import adapters, diagnose, equations, problems
from gradcheck.checks.common import (
    YOURS, judge_cases, layer_vjp, measure, precision_summary, softmax_loss_gradient, truth_name, unstable,
)
from gradcheck.checks.result import CheckResult, settle
from gradcheck.compare import NONFINITE, Comparison, Tolerance, compare, failed
from gradcheck.precision import Precision, probe_arrays
from gradcheck.witnesses import Problem
from reference_mlp import activations as act
from reference_mlp.mlp import Architecture
from reference_mlp.validation import InvalidArgument

DEFAULT_NAMES = {"linear": "Linear", "loss": "SoftmaxCrossEntropy", "relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}
LINEAR_EQUATIONS = {
    "backward": equations.Equation("14", "Gᵢ = G_{i+1} Wᵢᵀ  (a linear layer: σ' = 1)"),
    "grad": equations.Equation("15", "∇Wᵢ = Zᵢᵀ G_{i+1}"),
}


def _lookup(namespace: Any, name: str) -> Any:
    return namespace.get(name) if isinstance(namespace, Mapping) else getattr(namespace, name, None)


def _call(fn: Callable, *args: Any) -> tuple[Any, str | None]:
    c = adapters.call(fn, list(args), [f"arg{i}" for i in range(len(args))])
    return c.output, c.error


def _state_diagnosis(name: str, given: np.ndarray, rounds: list[dict[str, np.ndarray]]) -> diagnose.Diagnosis | None:
    """A later round's value explained by state left over from the rounds before it."""
    if len(rounds) < 2:
        return None
    latest, r = rounds[-1], len(rounds)
    if diagnose.fits({name: given}, {name: sum(past[name] for past in rounds)}):
        return diagnose.known("accumulates_gradient", f"round {r} gives the sum of every round's gradients so far")
    stale = latest.get(f"{name} (stale)")
    if stale is not None and diagnose.fits({name: given}, {name: stale}):
        return diagnose.known("stale_cache", f"round {r} equals the gradient for round 1's input")
    return None


def _judge(tensor: str, given: Any, truth: np.ndarray, equation, context: str, seed: int,
           tolerance: Tolerance | None = None) -> Comparison:
    value = adapters.as_float_array(given)
    if isinstance(value, str):
        return failed(tensor, truth.shape, f"{tensor} {value}", witnesses=(YOURS, truth_name()), equation=equation,
                      problem=context, seed=seed)
    return compare(value, truth, tensor=tensor, witnesses=(YOURS, truth_name()), equation=equation, problem=context,
                   seed=seed, tolerance=tolerance)


def _measured(make: Callable[[], Any], read: Callable[[Any, tuple], dict[str, Any]], args: tuple) -> Precision:
    """The precision a fresh object computes in, probed on one round's inputs."""
    def outputs(*inputs: Any) -> list[np.ndarray] | None:
        try:
            with np.errstate(all="ignore"):
                got = read(make(), inputs)
        except Exception:  # the rounds report it
            return None
        values = [adapters.as_float_array(v) for v in got.values()]
        return None if any(isinstance(v, str) for v in values) else values

    return probe_arrays(outputs, args, [f"input {i + 1}" for i in range(len(args))])


def _rounds(
    label: str, make: Callable[[], Any], inputs: list[tuple], expected: Callable[[tuple], dict[str, np.ndarray]],
    read: Callable[[Any, tuple], dict[str, Any]], equation_of: Callable[[str], Any], seed: int,
    hypotheses: Callable[[tuple, dict], tuple[tuple[str, dict], ...]] = lambda args, truth: (),
    nonfinite: diagnose.Diagnosis | None = None,
    probes: frozenset[int] = frozenset(),
    measured: dict[str, Precision] | None = None,
) -> list[Comparison]:
    """Run one object through each round of ``inputs`` and judge what ``read`` gathers.

    Rounds numbered in ``probes`` are numerical-stability probes: NaN or infinity there is that finding.
    """
    measured = {} if measured is None else measured
    try:
        obj = make()
    except Exception as exc:
        return [failed(label, (), f"creating {label} raised {adapters.describe_exception(exc)}",
                       witnesses=(YOURS, truth_name()), seed=seed)]
    precision = measured[label] = _measured(make, read, inputs[0])
    records, history = [], []
    for r, args in enumerate(inputs, start=1):
        context = f"round {r}" + (" (new input, same object)" if r > 1 else "")
        truth = expected(args)
        if history:  # what a stale cache would produce: round r's upstream with round 1's input
            truth_stale = expected((history[0]["__args"][0],) + args[1:])
            truth = {**truth, **{f"{k} (stale)": v for k, v in truth_stale.items()}}
        try:
            with np.errstate(all="ignore"):
                given = read(obj, args)
        except Exception as exc:
            records += [failed(f"{label}.{n}", truth[n].shape, f"{label} raised {adapters.describe_exception(exc)}",
                               witnesses=(YOURS, truth_name()), equation=equation_of(n), problem=context, seed=seed)
                        for n in truth if not n.endswith("(stale)")]
            break
        round_records = []
        for n, value in given.items():
            scale = float(np.max(np.abs(args[0]), initial=0.0)) if r in probes else 0.0  # large logits round more
            record = _judge(f"{label}.{n}", value, truth[n], equation_of(n), context, seed, precision.tolerance_at(scale))
            if record.failed:
                plain = adapters.as_float_array(value)
                found = None if isinstance(plain, str) else _state_diagnosis(n, plain, history + [truth] if history else [])
                if found is None and nonfinite is not None and not isinstance(plain, str) and not np.all(np.isfinite(plain)):
                    found = nonfinite
                if found is None and not isinstance(plain, str):
                    found = _object_diagnosis(n, plain, truth, hypotheses(args, truth))
                record = diagnose.with_diagnosis(record, found)
            round_records.append(record)
        records += unstable(round_records, f"{NONFINITE} on the large inputs of round {r}") if r in probes else round_records
        history.append({**{n: truth[n] for n in given}, "__args": args})
    return records


def _object_diagnosis(name: str, given: np.ndarray, truth: dict, hypotheses) -> diagnose.Diagnosis:
    flipped = diagnose.transposed_tensors({name: given}, {name: truth[name]})
    if flipped:
        return diagnose.known("transposed", f"{name} equals the right gradient transposed")
    for bug_id, expected in hypotheses:
        if name in expected and not diagnose.fits({name: truth[name]}, {name: expected[name]}) \
                and diagnose.fits({name: given}, {name: expected[name]}):
            return diagnose.known(bug_id, f"recomputing {name} with this mistake reproduces yours")
    return diagnose.Diagnosis(None, diagnose.evidence({name: given}, {name: truth[name]}))


def check_modules(
    namespace: Any,
    *,
    names: Mapping[str, str] | None = None,
    grad_attr: str = "dW",
    seed: int = 0,
    require_stability: bool = False,
) -> CheckResult:
    """Check the layer classes found in ``namespace`` (a module or dict).

    ``names`` maps ``linear``, ``loss``, ``relu``, ``sigmoid``, ``tanh`` to the
    user's class names (defaults: Linear, SoftmaxCrossEntropy, ReLU, Sigmoid,
    Tanh); ``grad_attr`` is where Linear.backward stores ∇W. Missing
    activation classes are reported as unsupported; NaN or infinity on
    logits near ±1000 is a warning unless ``require_stability``.
    """
    names = {**DEFAULT_NAMES, **(names or {})}
    linear, loss_cls = _lookup(namespace, names["linear"]), _lookup(namespace, names["loss"])
    if linear is None or loss_cls is None:
        raise InvalidArgument(
            f"module-style checks need a linear layer class and a loss class; looked for "
            f"{names['linear']!r} and {names['loss']!r} in {getattr(namespace, '__name__', type(namespace).__name__)}. "
            "Pass names={'linear': ..., 'loss': ...} if yours are called differently."
        )
    rng = np.random.default_rng(seed)
    target = getattr(namespace, "__name__", "modules")
    results: list[Comparison] = []

    draw = lambda *shape: rng.standard_normal(shape).astype(np.float32).astype(np.float64)  # float32 values: see precision
    W = draw(6, 4)
    linear_inputs = [(draw(5, 6), draw(5, 4)) for _ in range(2)]

    def linear_truth(args):
        Z, G = args
        dZ, dW, _ = layer_vjp("affine", (Z, W, np.zeros(4)), G)
        return {"forward": Z @ W, "backward": dZ, grad_attr: dW}

    def linear_read(obj, args):
        Z, G = args
        out = obj.forward(Z.copy())
        back = obj.backward(G.copy())
        return {"forward": out, "backward": back, grad_attr: getattr(obj, grad_attr, None)}

    linear_eq = lambda n: {"forward": equations.Equation("12", "Z_{i+1} = ZᵢWᵢ"), "backward": LINEAR_EQUATIONS["backward"]}.get(n, LINEAR_EQUATIONS["grad"])
    measured: dict[str, Precision] = {}
    results += _rounds(names["linear"], lambda: linear(W.copy()), linear_inputs, linear_truth, linear_read, linear_eq, seed,
                       measured=measured)

    supported, unsupported = [], []
    for key in ("relu", "sigmoid", "tanh"):
        cls = _lookup(namespace, names[key])
        if cls is None:
            unsupported.append(f"{key}: no class {names[key]!r}")
            continue
        supported.append(key)
        sigma = act.get(key)
        rounds = []
        for _ in range(2):
            Z = rng.standard_normal((5, 4))
            rounds.append((np.where(np.abs(Z) < problems.KINK_MARGIN, 0.5, Z).astype(np.float32).astype(np.float64),
                           draw(5, 4)))

        def act_truth(args, sigma=sigma):
            Z, G = args
            (dZ,) = layer_vjp(sigma.name, (Z,), G)
            return {"forward": sigma(Z), "backward": dZ}

        def act_read(obj, args):
            Z, G = args
            return {"forward": obj.forward(Z.copy()), "backward": obj.backward(G.copy())}

        def act_hypotheses(args, truth, sigma=sigma):
            Z, G = args
            return tuple((bug, {"backward": v["dx"]}) for bug, v in diagnose.layer_hypotheses(sigma.name, (Z,), G))

        results += _rounds(names[key], cls, rounds, act_truth, act_read,
                           lambda n: equations.Equation("14", "G ∘ σ'(Z)") if n == "backward" else None, seed, act_hypotheses,
                           measured=measured)

    loss_rounds = [(draw(5, 3) * s, rng.integers(0, 3, 5)) for s in (1.0, 1.0, problems.LARGE_LOGITS)]

    def loss_truth(args):
        h, y = args
        value, grad = softmax_loss_gradient(h, y)
        return {"forward": np.array(value), "backward": grad}

    def loss_read(obj, args):
        h, y = args
        value = obj.forward(h.copy(), y.copy())
        return {"forward": np.reshape(np.asarray(value, dtype=float), ()) if np.size(value) == 1 else value,
                "backward": obj.backward()}

    def loss_hypotheses(args, truth):
        h, y = args
        return tuple((bug, {"backward": v["dx"]}) for bug, v in diagnose.layer_hypotheses("softmax_loss", (h, y), truth["backward"]))

    results += _rounds(names["loss"], loss_cls, loss_rounds, loss_truth, loss_read,
                       lambda n: equations.LOSS if n == "forward" else equations.LOSS_GRADIENT, seed, loss_hypotheses,
                       nonfinite=diagnose.known("softmax_overflow", f"inf or NaN on logits near ±{problems.LARGE_LOGITS:g}"),
                       probes=frozenset({3}), measured=measured)

    for key in supported:
        cases = [c for c in problems.cases(lambda w: Architecture.build(w, hidden=key), depth=2, seed=seed)
                 if c.name in ("non-square", "large logits")]

        def network(X, y, W1, W2, key=key):
            first, hidden, second, loss = linear(W1), _lookup(namespace, names[key])(), linear(W2), loss_cls()
            loss.forward(second.forward(hidden.forward(first.forward(X))), y)
            first.backward(hidden.backward(second.backward(loss.backward())))
            return {"W1": getattr(first, grad_attr), "W2": getattr(second, grad_attr)}

        def run(p: Problem, network=network) -> adapters.Call:
            return adapters.call(network, [p.X, p.y, *p.params.W], ["X", "y", "W1", "W2"])

        read = lambda p, c: adapters.as_gradients(c.output, ("W1", "W2"), what="the network")
        measured[f"{key} network"] = measure(cases[0], run, ("W1", "W2"), read)
        results += judge_cases(f"composed {key} network", cases, run, ("W1", "W2"), read,
                               lambda n: equations.for_tensor(n, 2, two_layer_form=True),
                               precision=measured[f"{key} network"])
    return settle(target, "module objects", results, seed, require_stability=require_stability,
                  unsupported=tuple(unsupported), precision=precision_summary(measured))
