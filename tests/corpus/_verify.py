"""Verify the mutation corpus against reference_mlp: pass files agree, fail files are caught.

Run ``python tests/corpus/_verify.py`` (``-v`` prints every problem). One line per
corpus file: name, EXPECTED, DIAGNOSIS, whether the verification holds, and
for a fail file which input reveals the bug. Exit status 0 when every line holds.

A pass file holds when it matches the reference to rtol 1e-6 (1e-4 for
float32 files) on every problem of its convention and leaves its inputs
untouched. A fail file holds when at least one problem reveals it: a wrong
value or shape, a non-finite result, an exception, or a mutated input. Whether
the checker *names* the bug is not verified here.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from reference_mlp import mlp, train
from reference_mlp.loss import softmax_cross_entropy
from reference_mlp.mlp import Architecture, Params

HERE = pathlib.Path(__file__).resolve().parent
ACTIVATIONS = ("relu", "sigmoid", "tanh")
CONVENTIONS = ("two_layer_grads", "mlp_grads", "nn_epoch", "softmax_regression_epoch", "cs231n_layers", "modules")
BUG_IDS = {
    "missing_sigma_prime", "sigma_prime_at_activation", "output_formula_at_preactivation",
    "sum_instead_of_mean", "divided_by_m_twice", "mean_over_classes", "sign_flip",
    "preactivation_instead_of_activation", "transposed", "swapped_outputs", "one_hot_off_by_one",
    "one_hot_sized_by_labels", "softmax_overflow", "activation_on_output", "inputs_mutated",
    "updated_weights", "skipped_partial_batch", "hard_coded_batch_size", "shuffles",
    "bias_wrong_axis", "bias_not_summed", "accumulates_gradient", "stale_cache", "layer_index_off_by_one",
    "partial_batch_nominal_size", "scaled_gradient", "other_activation", "argument_order", "bias_kept_dimension",
}

SEED = 0
M, N, D, K, BATCH = 13, 5, 7, 3, 4  # non-square; batches of 4, 4, 4 and a partial 1
LARGE = 2000.0  # large_logits problems scale the last layer so that the largest logit is exactly this
# uint8 labels: the first batch of 4 has no example of class 2 (the largest); every class appears overall.
Y_BASE = np.array([0, 1, 1, 0, 2, 0, 1, 2, 1, 2, 0, 2, 1], dtype=np.uint8)
# uint8 labels that never use the largest class (k = 3): y.max() + 1 == 2 < k.
Y_NO_TOP = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1], dtype=np.uint8)

# Bugs that a base problem must not reveal, and the input that must reveal them:
# diagnosis -> (substrings of revealing problem names, substrings of problem names that stay clean).
SUBTLE = {
    "softmax_overflow": (("large",), ("base", "b4")),
    "one_hot_sized_by_labels": (("no_top_class",), ("base",)),
    "stale_cache": (("round2",), ("round1",)),
    "accumulates_gradient": (("round2",), ("round1",)),
    "hard_coded_batch_size": (("b4",), ("defaults",)),
    "updated_weights": (("b4",), ()),
    "sigma_prime_at_activation": ((), ("/relu",)),
}


@dataclass
class Outcome:
    problem: str
    reason: str | None  # None: agrees with the reference and leaves its inputs alone
    declined: bool = False  # raised ValueError for an activation it does not support (mlp_grads)


@dataclass
class Verdict:
    holds: bool
    detail: str
    outcomes: list[Outcome] = field(default_factory=list)


# ---------------------------------------------------------------- helpers

def load(path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(f"gradcheck_corpus_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mismatch(name: str, got, want, rtol: float) -> str | None:
    """None when ``got`` equals ``want`` to rtol (atol = rtol·max|want|), else why not."""
    try:
        got = np.asarray(got)
    except Exception as exc:  # noqa: BLE001 - anything a student returns
        return f"{name} is not an array ({exc})"
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return f"{name} shape {got.shape} != {want.shape}"
    if got.dtype.kind not in "fiu":
        return f"{name} dtype {got.dtype}"
    got = got.astype(np.float64)
    if not np.all(np.isfinite(got)):
        return f"{name} non-finite"
    scale = float(np.max(np.abs(want))) if want.size else 1.0
    if not np.allclose(got, want, rtol=rtol, atol=rtol * scale):
        return f"{name} rel.err {np.max(np.abs(got - want)) / max(scale, 1e-300):.2g}"
    return None


def first(*reasons: str | None) -> str | None:
    return next((r for r in reasons if r), None)


def mutation(arrays: dict[str, np.ndarray], snapshot: dict[str, np.ndarray]) -> str | None:
    changed = [k for k in arrays if arrays[k].dtype != snapshot[k].dtype or not np.array_equal(arrays[k], snapshot[k])]
    return f"mutated {', '.join(changed)}" if changed else None


def attempt(problem: str, body: Callable[[], str | None]) -> Outcome:
    """Run one problem; an exception is a revealing outcome (ValueError may mean 'declined')."""
    try:
        with np.errstate(all="ignore"):
            return Outcome(problem, body())
    except Exception as exc:  # noqa: BLE001 - corpus code may raise anything
        text = str(exc).splitlines()[0][:60] if str(exc) else ""
        return Outcome(problem, f"raised {type(exc).__name__}: {text}", declined=isinstance(exc, ValueError))


def rand(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def weights(rng: np.random.Generator, widths) -> list[np.ndarray]:
    return [rand(rng, a, b) / np.sqrt(a) for a, b in zip(widths, widths[1:])]


def ref_net(X, y, Ws, activation, bs=None):
    """Reference gradients (mean reduction) of an MLP with hidden σ = activation."""
    widths = (X.shape[1],) + tuple(W.shape[1] for W in Ws)
    arch = Architecture.build(widths, hidden=activation, bias=bs is not None)
    params = Params(tuple(Ws), tuple(bs) if bs is not None else (None,) * len(Ws))
    return mlp.gradients(arch, params, X, y, "mean")


def max_logit(X, Ws, activation, bs=None) -> float:
    widths = (X.shape[1],) + tuple(W.shape[1] for W in Ws)
    arch = Architecture.build(widths, hidden=activation, bias=bs is not None)
    params = Params(tuple(Ws), tuple(bs) if bs is not None else (None,) * len(Ws))
    return float(mlp.forward(arch, params, X).Z[-1].max())


def enlarge(X, Ws, activation, bs=None):
    """Scale the last layer (weights and bias) so that the largest logit is LARGE (> 800: exp overflows)."""
    top = max_logit(X, Ws, activation, bs)
    assert top > 0, "cannot scale a network whose logits are all negative"
    f = LARGE / top
    Ws = list(Ws[:-1]) + [Ws[-1] * f]
    return Ws if bs is None else (Ws, list(bs[:-1]) + [bs[-1] * f])


# ---------------------------------------------------------------- problems

def network_problems(rng: np.random.Generator) -> list[tuple[str, np.ndarray, np.ndarray, list[np.ndarray]]]:
    """(kind, X, y, [W1, W2]) for the two-layer conventions."""
    X = rand(rng, M, N)
    Ws = weights(rng, (N, D, K))
    Xs = rand(rng, M, 4)
    Wsq = weights(rng, (4, 4, 4))
    ysq = rng.permutation(np.arange(M) % 4).astype(np.uint8)
    return [
        ("base", X, Y_BASE, Ws),
        ("int64_labels", X, Y_BASE.astype(np.int64), Ws),
        ("no_top_class", X, Y_NO_TOP, Ws),
        ("square", Xs, ysq, Wsq),  # n = d = k = 4: a transposed gradient has the right shape
        ("large_logits", X, Y_BASE, Ws),  # the runner scales W2 so that the largest logit is LARGE
    ]


# ---------------------------------------------------------------- conventions

def run_two_layer(mod, rtol: float) -> list[Outcome]:
    act = mod.ACTIVATION
    outcomes = []
    for kind, X, y, (W1, W2) in network_problems(np.random.default_rng(SEED)):
        if kind == "large_logits":
            W1, W2 = enlarge(X, [W1, W2], act)
        want = ref_net(X, y, [W1, W2], act).dW
        args = {"X": X.copy(), "y": y.copy(), "W1": W1.copy(), "W2": W2.copy()}
        snap = {k: v.copy() for k, v in args.items()}

        def body(args=args, snap=snap, want=want):
            got = mod.two_layer_grads(args["X"], args["y"], args["W1"], args["W2"])
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                return f"returned {type(got).__name__}, not (dW1, dW2)"
            return first(mismatch("dW1", got[0], want[0], rtol), mismatch("dW2", got[1], want[1], rtol), mutation(args, snap))

        outcomes.append(attempt(kind, body))
    return outcomes


def run_mlp(mod, rtol: float) -> list[Outcome]:
    rng = np.random.default_rng(SEED)
    X = rand(rng, M, N)
    nets = {w: weights(rng, w) for w in [(N, D, K), (N, D, 6, K), (N, K)]}
    Xs, Wsq = rand(rng, M, 4), weights(rng, (4, 4, 4, 4))
    ysq = rng.permutation(np.arange(M) % 4).astype(np.uint8)
    deep = nets[(N, D, 6, K)]
    problems = [
        ("base", X, Y_BASE, nets[(N, D, K)]),
        ("base", X, Y_BASE, deep),
        ("base", X, Y_BASE, nets[(N, K)]),
        ("int64_labels", X, Y_BASE.astype(np.int64), deep),
        ("no_top_class", X, Y_NO_TOP, nets[(N, D, K)]),
        ("square", Xs, ysq, Wsq),
        ("large_logits", X, Y_BASE, deep),  # last layer scaled below so that the largest logit is LARGE
    ]
    outcomes = []
    for kind, Xp, y, Ws in problems:
        label = "-".join(str(w) for w in (Xp.shape[1],) + tuple(W.shape[1] for W in Ws))
        for act in ACTIVATIONS:
            Ws_act = enlarge(Xp, Ws, act) if kind == "large_logits" else Ws
            want = ref_net(Xp, y, Ws_act, act).dW
            args = {"X": Xp.copy(), "y": y.copy(), **{f"W{i + 1}": W.copy() for i, W in enumerate(Ws_act)}}
            snap = {k: v.copy() for k, v in args.items()}

            def body(args=args, snap=snap, want=want, act=act, L=len(Ws)):
                got = mod.mlp_grads(args["X"], args["y"], [args[f"W{i + 1}"] for i in range(L)], activation=act)
                if not isinstance(got, (tuple, list)) or len(got) != L:
                    return f"returned {type(got).__name__}, not a list of {L} gradients"
                return first(*(mismatch(f"dW{i + 1}", g, w, rtol) for i, (g, w) in enumerate(zip(got, want))),
                             mutation(args, snap))

            outcomes.append(attempt(f"{kind}:{label}/{act}", body))
    return outcomes


def epoch_problems(rng: np.random.Generator, widths) -> list[tuple[str, np.ndarray, np.ndarray, list[np.ndarray], dict]]:
    """(name, X, y, Ws, kwargs); kwargs are passed to the epoch function as given."""
    X = rand(rng, M, N)
    Ws = weights(rng, widths)
    big = enlarge(X, Ws, "relu")
    return [
        ("b4", X, Y_BASE, Ws, {"lr": 0.1, "batch": BATCH}),
        ("b4_int64", X, Y_BASE.astype(np.int64), Ws, {"lr": 0.1, "batch": BATCH}),
        ("defaults", X, Y_BASE, Ws, {}),  # lr = 0.1, batch = 100: one batch of 13
        ("b5_lr0.5", X, Y_BASE, Ws, {"lr": 0.5, "batch": 5}),
        ("large_logits", X, Y_BASE, big, {"lr": 0.1, "batch": BATCH}),
    ]


def run_epoch(mod, rtol: float, fn_name: str, widths) -> list[Outcome]:
    rng = np.random.default_rng(SEED)
    fn = getattr(mod, fn_name)
    outcomes = []
    for name, X, y, Ws, kwargs in epoch_problems(rng, widths):
        arch = Architecture.build(widths, hidden="relu")
        want = train.sgd_epoch(arch, Params(tuple(Ws), (None,) * len(Ws)), X, y,
                               lr=kwargs.get("lr", 0.1), batch=kwargs.get("batch", 100), reduction="mean").W
        data = {"X": X.copy(), "y": y.copy()}
        snap = {k: v.copy() for k, v in data.items()}
        Wc = [W.copy() for W in Ws]

        def body(data=data, snap=snap, Wc=Wc, want=want, kwargs=kwargs):
            np.random.seed(SEED)  # a shuffling epoch is still deterministic
            ret = fn(data["X"], data["y"], *Wc, **kwargs)
            names = ["W1", "W2"] if len(Wc) == 2 else ["theta"]
            return first(None if ret is None else f"returned {type(ret).__name__}, not None",
                         *(mismatch(f"{n} after epoch", W, w, rtol) for n, W, w in zip(names, Wc, want)),
                         mutation(data, snap))

        outcomes.append(attempt(name, body))
    if fn_name == "nn_epoch":
        Z = rand(rng, M, K) * 3
        for name, logits in (("loss", Z), ("loss_large", Z * (LARGE / Z.max()))):
            want = softmax_cross_entropy(logits, Y_BASE, "mean")[0]
            data = {"Z": logits.copy(), "y": Y_BASE.copy()}
            snap = {k: v.copy() for k, v in data.items()}
            outcomes.append(attempt(name, lambda data=data, snap=snap, want=want: first(
                mismatch("softmax_loss", mod.softmax_loss(data["Z"], data["y"]), want, rtol), mutation(data, snap))))
    return outcomes


def run_cs231n(mod, rtol: float) -> list[Outcome]:
    outcomes = []
    rng = np.random.default_rng(SEED)
    problems = network_problems(rng)
    biases = {kind: [0.1 * rand(rng, W.shape[1]) for W in Ws] for kind, _, _, Ws in problems}
    for kind, X, y, Ws in problems:
        for act in ACTIVATIONS:
            (W1, W2), (b1, b2) = enlarge(X, Ws, act, biases[kind]) if kind == "large_logits" else (Ws, biases[kind])
            ref = ref_net(X, y, [W1, W2], act, [b1, b2])
            want = {"loss": ref.loss, "dX": ref.G[0], "dW1": ref.dW[0], "db1": ref.db[0], "dW2": ref.dW[1], "db2": ref.db[1]}
            args = {"X": X.copy(), "y": y.copy(), "W1": W1.copy(), "b1": b1.copy(), "W2": W2.copy(), "b2": b2.copy()}
            snap = {k: v.copy() for k, v in args.items()}

            def body(a=args, snap=snap, want=want, act=act):
                fwd, bwd = getattr(mod, f"{act}_forward"), getattr(mod, f"{act}_backward")
                a1, c1 = mod.affine_forward(a["X"], a["W1"], a["b1"])
                h, ch = fwd(a1)
                logits, c2 = mod.affine_forward(h, a["W2"], a["b2"])
                loss, dlogits = mod.softmax_loss(logits, a["y"])
                dh, dW2, db2 = mod.affine_backward(dlogits, c2)
                da1 = bwd(dh, ch)
                dX, dW1, db1 = mod.affine_backward(da1, c1)
                got = {"loss": loss, "dX": dX, "dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
                return first(*(mismatch(k, got[k], want[k], rtol) for k in want), mutation(a, snap))

            outcomes.append(attempt(f"{kind}/{act}", body))
    return outcomes


def run_modules(mod, rtol: float) -> list[Outcome]:
    outcomes = []
    rng = np.random.default_rng(SEED)
    classes = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    for kind, X, y, Ws in network_problems(rng):
        if kind in ("int64_labels", "no_top_class"):
            continue
        X2 = rand(rng, *X.shape)  # the second round: other inputs, other labels, same weights
        y2 = np.roll(y, 5)
        for act in ACTIVATIONS:
            W1, W2 = enlarge(X, Ws, act) if kind == "large_logits" else Ws
            W = {"W1": W1.copy(), "W2": W2.copy()}
            Wsnap = {k: v.copy() for k, v in W.items()}
            net = {}

            def build(W=W, act=act, net=net):
                net.update(lin1=mod.Linear(W["W1"]), sigma=getattr(mod, classes[act])(),
                           lin2=mod.Linear(W["W2"]), loss=mod.SoftmaxCrossEntropy())
                return None

            build_outcome = attempt(f"{kind}/{act}/build", build)
            if build_outcome.reason:
                outcomes.append(build_outcome)
                continue
            for rnd, (Xr, yr) in enumerate(((X, y), (X2, y2)), start=1):
                ref = ref_net(Xr, yr, [W1, W2], act)
                want = {"loss": ref.loss, "dX": ref.G[0], "lin1.dW": ref.dW[0], "lin2.dW": ref.dW[1]}
                data = {"X": Xr.copy(), "y": yr.copy()}
                snap = {k: v.copy() for k, v in data.items()}

                def body(data=data, snap=snap, want=want, net=net, W=W, Wsnap=Wsnap):
                    loss = net["loss"].forward(net["lin2"].forward(net["sigma"].forward(net["lin1"].forward(data["X"]))), data["y"])
                    G = net["loss"].backward()
                    dX = net["lin1"].backward(net["sigma"].backward(net["lin2"].backward(G)))
                    got = {"loss": loss, "dX": dX, "lin1.dW": net["lin1"].dW, "lin2.dW": net["lin2"].dW}
                    return first(*(mismatch(k, got[k], want[k], rtol) for k in want), mutation(data, snap), mutation(W, Wsnap))

                outcomes.append(attempt(f"{kind}/{act}/round{rnd}", body))
    return outcomes


RUNNERS = {
    "two_layer_grads": run_two_layer,
    "mlp_grads": run_mlp,
    "nn_epoch": lambda mod, rtol: run_epoch(mod, rtol, "nn_epoch", (N, D, K)),
    "softmax_regression_epoch": lambda mod, rtol: run_epoch(mod, rtol, "softmax_regression_epoch", (N, K)),
    "cs231n_layers": run_cs231n,
    "modules": run_modules,
}


# ---------------------------------------------------------------- judging

def metadata_problem(path: pathlib.Path, mod) -> str | None:
    conv = getattr(mod, "CONVENTION", None)
    expected = getattr(mod, "EXPECTED", None)
    diagnosis = getattr(mod, "DIAGNOSIS", "missing")
    activation = getattr(mod, "ACTIVATION", "missing")
    doc = (mod.__doc__ or "").strip()
    if conv not in CONVENTIONS:
        return f"CONVENTION {conv!r}"
    if expected not in ("pass", "fail"):
        return f"EXPECTED {expected!r}"
    # A fail file may claim no diagnosis (DIAGNOSIS = None): no catalogued mistake explains it.
    if expected == "pass" and diagnosis is not None or diagnosis is not None and diagnosis not in BUG_IDS:
        return f"DIAGNOSIS {diagnosis!r} with EXPECTED {expected!r}"
    needs_activation = conv in ("two_layer_grads", "nn_epoch")
    if needs_activation and activation not in ACTIVATIONS or not needs_activation and activation is not None:
        return f"ACTIVATION {activation!r} for {conv}"
    if not doc or "\n" in doc:
        return "module docstring must be one line"
    return None


def judge(path: pathlib.Path) -> tuple[object, Verdict]:
    mod = load(path)
    meta = metadata_problem(path, mod)
    if meta:
        return mod, Verdict(False, f"bad metadata: {meta}")
    rtol = 1e-4 if "float32" in path.stem else 1e-6
    outcomes = RUNNERS[mod.CONVENTION](mod, rtol)
    total = len(outcomes)
    if mod.EXPECTED == "pass":
        declined = [o for o in outcomes if o.reason and o.declined and mod.CONVENTION == "mlp_grads"]
        wrong = [o for o in outcomes if o.reason and o not in declined]
        declined_acts = sorted({o.problem.rsplit("/", 1)[1] for o in declined})
        partial = [a for a in declined_acts if not all(o in declined for o in outcomes if o.problem.endswith("/" + a))]
        if wrong:
            return mod, Verdict(False, f"disagrees on {len(wrong)}/{total}: {wrong[0].problem} ({wrong[0].reason})", outcomes)
        if "relu" in declined_acts or partial:
            return mod, Verdict(False, f"declines inconsistently: {declined_acts}", outcomes)
        note = f"; declines {', '.join(declined_acts)} with ValueError" if declined_acts else ""
        return mod, Verdict(True, f"agrees on {total - len(declined)}/{total} problems, inputs untouched{note}", outcomes)

    revealing = [o for o in outcomes if o.reason and not (o.declined and mod.CONVENTION == "mlp_grads")]
    if not revealing:
        return mod, Verdict(False, f"not revealed by any of {total} problems", outcomes)
    must_reveal, stay_clean = SUBTLE.get(mod.DIAGNOSIS, ((), ()))
    leaks = [o.problem for o in revealing if any(s in o.problem for s in stay_clean)]
    if leaks:
        return mod, Verdict(False, f"expected clean on {leaks[0]}, got {next(o.reason for o in revealing if o.problem == leaks[0])}", outcomes)
    key = [o for o in revealing if any(s in o.problem for s in must_reveal)]
    if must_reveal and not key:
        return mod, Verdict(False, f"not revealed by {'/'.join(must_reveal)}", outcomes)
    if mod.DIAGNOSIS == "inputs_mutated" and not all(o.reason.startswith("mutated") for o in revealing):
        return mod, Verdict(False, "an inputs_mutated file must compute correct values", outcomes)
    shown = (key or revealing)[0]
    clean = total - len(revealing)
    tail = f"; clean on the other {clean}" if clean else ""
    return mod, Verdict(True, f"revealed by {shown.problem} ({shown.reason}) [{len(revealing)}/{total} reveal{tail}]", outcomes)


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    paths = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    failures = n_fail = 0
    width = max(len(p.stem) for p in paths)
    for path in paths:
        try:
            mod, verdict = judge(path)
            expected, diagnosis = mod.EXPECTED, mod.DIAGNOSIS
        except Exception as exc:  # noqa: BLE001 - report, keep going
            expected, diagnosis, verdict = "?", "?", Verdict(False, f"verifier error {type(exc).__name__}: {exc}")
        failures += not verdict.holds
        n_fail += expected == "fail"
        print(f"{path.stem:<{width}}  {expected:<4}  {diagnosis or '-':<35}  {'holds' if verdict.holds else 'BROKEN'}  {verdict.detail}")
        if verbose:
            for o in verdict.outcomes:
                print(f"    {o.problem:<28} {'ok' if o.reason is None else o.reason}")
    print(f"\n{len(paths) - failures} of {len(paths)} corpus files verified ({n_fail} expected to fail).")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
