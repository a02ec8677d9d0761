"""gradcheck against its peers, side by side in one process on the same problems.

Every checker is handed the same manual backprop (a textbook numpy
implementation computing in the problem's dtype, or a copy with a planted bug)
and the same forward pass:

- gradcheck: ``gradcheck.verify``, the default check of user code — every entry
  against the closed form and the JAX oracle, plus the complex-step directional
  witness along two seeded rank-one directions per tensor;
- torch.autograd.gradcheck, slow (2P loss evaluations) and fast mode, on a
  torch.autograd.Function whose backward is the manual gradient;
- jax.test_util.check_grads (reverse mode) on a jax.custom_vjp whose backward
  is the manual gradient;
- numdifftools.Gradient with a fixed central step;
- the per-entry central-difference loop courses ship (CS231n's
  eval_numerical_gradient, h = 1e-5, relative error < 1e-7).

Sections of bench/RESULTS.md, all from one run:
1. speed on a correct gradient (median wall time, loss evaluations, cost in
   forward passes, ratio to gradcheck), float64 and float32;
2. planted bugs caught and false alarms on correct gradients: generic, with
   pre-activations within 1e-7 of ReLU's kink, and with some exactly on it;
3. full finite-difference gradients: the per-entry loop against the stacked
   evaluation of ``gradcheck.network_fd``;
4. black-box localisation of wrong entries (``gradcheck.localize``);
5. start-up: ``import gradcheck``, the oracle's first compile, its cache.

    pip install -e ".[bench]" && python bench/peers.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import time
import warnings
from typing import Callable

import numpy as np

from gradcheck import finite_diff, network_fd
from gradcheck.diagnose import variant_gradients
from gradcheck.localize import localize
from gradcheck.report import table
from gradcheck.verification import verify
from gradcheck.witnesses import Problem, closed_form
from reference_mlp import mlp
from reference_mlp.mlp import Architecture, Params

SIZES = {  # name: (m, widths)
    "small 8×20-16-5": (8, (20, 16, 5)),
    "medium 32×100-64-10": (32, (100, 64, 10)),
    "MNIST 64×784-128-10": (64, (784, 128, 10)),
    "4-layer 64×256-128-64-10": (64, (256, 128, 64, 10)),
}
DTYPES = {"float64": np.float64, "float32": np.float32}
Grads = Callable[[Problem], list]
OURS = "gradcheck verify (default)"


def problem(widths, m, seed, kink: str | None = None, dtype=np.float64) -> Problem:
    """A ReLU network; ``kink="near"`` puts three first-layer pre-activations within 1e-7 of 0, ``"on"`` exactly on it."""
    arch = Architecture.build(widths, hidden="relu")
    rng = np.random.default_rng(seed)
    params = mlp.init_params(arch, rng)
    X = rng.standard_normal((m, widths[0]))
    W = [w.copy() for w in params.W]
    for row in range(min(3, m) if kink else 0):
        col = row % widths[1]
        if kink == "near":
            X[row, -1] -= (X[row] @ W[0][:, col] - rng.uniform(-1e-7, 1e-7)) / W[0][-1, col]
        else:  # (XW₁)[row, col] = W₁[0, col] − W₁[1, col] = 0 exactly
            X[row] = 0.0
            X[row, 0], X[row, 1] = 1.0, -1.0
            W[0][1, col] = W[0][0, col]
    cast = Params(tuple(w.astype(dtype) for w in W), (None,) * len(W))
    return Problem(arch, cast, X.astype(dtype), rng.integers(0, widths[-1], m))


# ---------------------------------------------------------------------------- the code under test

def manual_forward(p: Problem, Ws) -> tuple[list, list, np.ndarray]:
    """Z₁ = X, Z_{i+1} = relu(ZᵢWᵢ), identity output: a student's forward pass in the problem's dtype."""
    Z, A = [p.X], []
    for i, W in enumerate(Ws):
        A.append(Z[-1] @ W)
        Z.append(A[-1] if i == len(Ws) - 1 else np.maximum(A[-1], 0))
    h = Z[-1] - Z[-1].max(axis=1, keepdims=True)
    log_S = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    return Z, A, log_S


def loss_of(p: Problem, Ws) -> float:
    log_S = manual_forward(p, Ws)[2]
    return -log_S[np.arange(len(p.y)), p.y].mean()


def correct(p: Problem) -> list:
    """Manual backprop by Eqs. 14 and 15, in the problem's dtype."""
    Z, A, log_S = manual_forward(p, p.params.W)
    G = np.exp(log_S)
    G[np.arange(len(p.y)), p.y] -= 1
    G /= len(p.y)  # G_{L+1} = (S − I_y)/m
    grads = []
    for i in reversed(range(len(p.params.W))):
        delta = G if i == len(p.params.W) - 1 else G * (A[i] > 0)
        grads.append(Z[i].T @ delta)  # Eq. 15
        G = delta @ p.params.W[i].T  # Eq. 14
    return grads[::-1]


def entry_off(rel: float) -> Grads:
    def grads(p):
        g = correct(p)
        i = np.unravel_index(np.argmax(np.abs(g[0])), g[0].shape)
        g[0][i] *= 1 + rel
        return g
    return grads


def from_variant(**switch) -> Grads:
    def grads(p):
        dtype = p.params.W[0].dtype
        return [variant_gradients(p, **switch)[f"W{i + 1}"].astype(dtype) for i in range(p.arch.depth)]
    return grads


def transposed_block(p):
    g = correct(p)
    g[0][:3, :3] = g[0][:3, :3].T.copy()
    return g


BUGS: dict[str, Grads] = {
    "one dW1 entry off by 1e-3": entry_off(1e-3),
    "one dW1 entry off by 1e-6": entry_off(1e-6),
    "missing σ'": from_variant(derivative="none"),
    "pre-activation for activation": from_variant(dW_from="preactivation"),
    "sum instead of mean": lambda p: [g * len(p.X) for g in correct(p)],
    "sign flip": from_variant(scale=-1.0),
    "transposed 3×3 block": transposed_block,
}


# ---------------------------------------------------------------------------- the checkers

class Counter:
    def __init__(self):
        self.n = 0
        self.not_checkable = 0


def ours(p: Problem, grads: Grads, counter: Counter) -> bool:
    result = verify(p, {f"W{i + 1}": g for i, g in enumerate(grads(p))})
    counter.n += 1 + result.directions * p.arch.depth  # one forward pass, one complex tail pass per direction
    counter.not_checkable += sum(c.bounded for c in result.comparisons if c.witnesses[1] == "closed form")
    return result.passed


def torch_gradcheck(fast: bool) -> Callable:
    import torch

    def check(p: Problem, grads: Grads, counter: Counter) -> bool:
        dtype = torch.float64 if p.X.dtype == np.float64 else torch.float32

        class Manual(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *Ws):
                ctx.save_for_backward(*Ws)
                counter.n += 1
                return torch.tensor(loss_of(p, [w.detach().numpy() for w in Ws]), dtype=dtype)

            @staticmethod
            def backward(ctx, g):
                Ws = [w.detach().numpy() for w in ctx.saved_tensors]
                q = Problem(p.arch, Params(tuple(Ws), (None,) * len(Ws)), p.X, p.y)
                return tuple(g * torch.from_numpy(np.ascontiguousarray(d)) for d in grads(q))

        inputs = tuple(torch.tensor(W, requires_grad=True, dtype=dtype) for W in p.params.W)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(torch.autograd.gradcheck(Manual.apply, inputs, fast_mode=fast, raise_exception=False))
    return check


def jax_check_grads(p: Problem, grads: Grads, counter: Counter) -> bool:
    import jax
    from jax.test_util import check_grads

    from gradcheck import oracle

    oracle._jax()  # float64 on
    dtype = p.X.dtype
    shapes = tuple(jax.ShapeDtypeStruct(W.shape, dtype) for W in p.params.W)

    def host_loss(*Ws):
        counter.n += 1
        return np.asarray(loss_of(p, [np.asarray(w) for w in Ws]), dtype)

    def host_grads(*Ws):
        Ws = [np.asarray(w) for w in Ws]
        return tuple(np.asarray(d, dtype) for d in grads(Problem(p.arch, Params(tuple(Ws), (None,) * len(Ws)), p.X, p.y)))

    @jax.custom_vjp
    def f(*Ws):
        return jax.pure_callback(host_loss, jax.ShapeDtypeStruct((), dtype), *Ws)

    def f_fwd(*Ws):
        return f(*Ws), Ws

    def f_bwd(Ws, g):
        return tuple(g * d for d in jax.pure_callback(host_grads, shapes, *Ws))

    f.defvjp(f_fwd, f_bwd)
    try:
        check_grads(f, tuple(p.params.W), order=1, modes=("rev",))
        return True
    except AssertionError:
        return False


def numdifftools_check(p: Problem, grads: Grads, counter: Counter) -> bool:
    import numdifftools as nd

    shapes = [W.shape for W in p.params.W]
    cuts = np.cumsum([np.prod(s) for s in shapes])[:-1]

    def flat_loss(theta):
        counter.n += 1
        return loss_of(p, [part.reshape(s).astype(p.X.dtype) for part, s in zip(np.split(theta, cuts), shapes)])

    numeric = nd.Gradient(flat_loss, step=1e-6, method="central")(np.concatenate([W.ravel() for W in p.params.W]))
    analytic = np.concatenate([g.ravel() for g in grads(p)])
    return bool(np.allclose(analytic, numeric, rtol=1e-5, atol=1e-8))


def course_loop(p: Problem, grads: Grads, counter: Counter) -> bool:
    analytic = grads(p)
    for i, W in enumerate(p.params.W):
        numeric = np.zeros(W.shape)
        Ws = [w.copy() for w in p.params.W]
        for index in np.ndindex(W.shape):
            old = Ws[i][index]
            Ws[i][index] = old + 1e-5
            plus = loss_of(p, Ws)
            Ws[i][index] = old - 1e-5
            minus = loss_of(p, Ws)
            Ws[i][index] = old
            counter.n += 2
            numeric[index] = (plus - minus) / 2e-5
        rel = np.max(np.abs(numeric - analytic[i]) / np.maximum(1e-8, np.abs(numeric) + np.abs(analytic[i])))
        if rel > 1e-7:
            return False
    return True


# checker: (function, largest P timed in float64 and in float32, largest P in the bug/false-alarm runs in
# float64 and in float32). torch's fast mode re-runs the 2P slow mode whenever it fails, which in float32 is always.
CHECKERS = {
    OURS: (ours, None, None, None, None),
    "torch gradcheck, fast": (torch_gradcheck(True), None, None, None, 20_000),
    "jax check_grads": (jax_check_grads, None, None, None, None),
    "torch gradcheck, slow": (torch_gradcheck(False), None, 20_000, 20_000, 20_000),
    "numdifftools, fixed step": (numdifftools_check, 10_000, 10_000, 3_000, 3_000),
    "course loop (eval_numerical_gradient)": (course_loop, None, 20_000, 20_000, 20_000),
}


def timed(check, p, grads, repeat) -> tuple[float, int, bool, int]:
    """Median wall time of up to ``repeat`` runs (one, if the first takes over a second)."""
    times, verdict, counter = [], None, Counter()
    for _ in range(repeat):
        counter = Counter()
        start = time.perf_counter()
        verdict = check(p, grads, counter)
        times.append(time.perf_counter() - start)
        if times[0] > 1.0:
            break
    return statistics.median(times), counter.n, verdict, counter.not_checkable


def within(limit: int | None, P: int) -> bool:
    return limit is None or P <= limit


# ---------------------------------------------------------------------------- the sections

def speed(repeat: int, sizes: dict) -> str:
    rows = []
    for dtype_name, dtype in DTYPES.items():
        for size, (m, widths) in sizes.items():
            p = problem(widths, m, seed=0, dtype=dtype)
            P = p.arch.n_params
            forward = min(timed(lambda q, g, c: loss_of(q, q.params.W), p, None, 1)[0] for _ in range(9))
            timed(ours, p, correct, 1)  # compile the oracle once, as a test session would
            base = None
            for name, (check, limit64, limit32, *_) in CHECKERS.items():
                limit = limit64 if dtype is np.float64 else limit32
                label = f"{size} {dtype_name}"
                if not within(limit, P):
                    rows.append([label, name, "-", "-", "-", "-", f"not run (P = {P:,})"])
                    continue
                seconds, evaluations, verdict, _ = timed(check, p, correct, repeat)
                base = base or seconds
                rows.append([label, name, f"{seconds * 1e3:,.1f}", f"{evaluations:,}", f"{seconds / forward:,.1f}",
                             f"{seconds / base:,.1f}x", "passes" if verdict else "REJECTS the correct gradient"])
                print(rows[-1], flush=True)
    return table(["problem", "checker", "ms", "loss evals", "forward passes", "vs gradcheck", "verdict on correct"],
                 rows, right=[False, False, True, True, True, True, False])


def detection(cases: int, peer_cases: int, sizes: dict) -> str:
    rows = []
    for dtype_name, dtype in DTYPES.items():
        for size, (m, widths) in sizes.items():
            p = problem(widths, m, seed=1, dtype=dtype)
            for name, (check, _, _, limit64, limit32) in CHECKERS.items():
                if not within(limit64 if dtype is np.float64 else limit32, p.arch.n_params):
                    continue
                caught = [bug for bug, grads in BUGS.items() if not timed(check, p, grads, 1)[2]]
                n = cases if name == OURS else peer_cases
                alarms = {"generic": 0, "near": 0, "on": 0}
                not_checkable = 0
                for seed in range(n):
                    for kind in alarms:
                        q = problem(widths, m, seed=100 + seed, kink=None if kind == "generic" else kind, dtype=dtype)
                        _, _, verdict, skipped = timed(check, q, correct, 1)
                        alarms[kind] += not verdict
                        not_checkable += kind == "on" and skipped > 0
                missed = [bug for bug in BUGS if bug not in caught]
                rows.append([f"{size} {dtype_name}", name, f"{len(caught)}/{len(BUGS)}", ", ".join(missed) or "-",
                             *(f"{alarms[k]}/{n}" for k in alarms),
                             f"{not_checkable}/{n}" if name == OURS else "-"])
                print(rows[-1], flush=True)
    return table(["problem", "checker", "bugs caught", "missed", "false alarms: generic", "near kink", "on kink",
                  "on-kink entries judged against the σ' interval"],
                 rows, right=[False, False, True, False, True, True, True, True])


def full_fd(sample: int, sizes: dict) -> str:
    rows = []
    for size, (m, widths) in sizes.items():
        p = problem(widths, m, seed=0)
        truth = closed_form(p)["W1"]
        W1 = p.params.W[0]
        loss, region = network_fd.loss_function(p, "W1"), network_fd.region_function(p, "W1")
        entries = np.random.default_rng(0).choice(W1.size, size=min(sample, W1.size), replace=False)
        start = time.perf_counter()
        for k in entries:  # the per-entry loop: one kink-aware Richardson estimate per entry
            e = np.zeros(W1.shape)
            e.flat[k] = 1.0
            finite_diff.directional(loss, W1, e, method="richardson", region=region)
        loop = (time.perf_counter() - start) * W1.size / len(entries)
        scaled = "" if len(entries) == W1.size else f" (timed on {len(entries):,} entries, scaled)"
        for method in ("richardson", "complex"):
            start = time.perf_counter()
            estimate = network_fd.gradient(p, "W1", method=method)
            stacked = time.perf_counter() - start
            judged = estimate.checkable
            err = np.max(np.abs(estimate.values[judged] - truth[judged])) / np.max(np.abs(truth))
            rows.append([size, f"{W1.size:,}", f"{loop:,.1f}{scaled}", method, f"{stacked:,.2f}", f"{loop / stacked:,.0f}x",
                         f"{err:.1e}", f"{estimate.not_checkable:,}"])
            print(rows[-1], flush=True)
    return table(["problem", "entries of W1", "per-entry loop s", "stacked method", "stacked s", "speed-up",
                  "max error / max|∇W1|", "not checkable (kink)"], rows, right=[False, True, True, False, True, True, True, True])


def localisation() -> str:
    m, widths = SIZES["MNIST 64×784-128-10"]
    p = problem(widths, m, seed=2)
    truth = closed_form(p)["W1"]
    loss = network_fd.loss_function(p, "W1")
    rng = np.random.default_rng(3)
    rows = []
    plants = {"1 entry off by 1e-3": (1, 1e-3), "2 entries off by 1e-3": (2, 1e-3), "3 entries off by 1e-3": (3, 1e-3),
              "3 entries off by 1e-2, equal errors": (3, None), "a whole column off by 1e-2": (0, 1e-2)}
    for label, (k, rel) in plants.items():
        g = truth.copy()
        if k == 0:
            g[:, 5] *= 1 + rel
            planted = set()
        else:
            idx = rng.choice(g.size, size=k, replace=False)
            if rel is None:  # equal absolute errors, which ±1 signs could cancel
                g.flat[idx] += 1e-2 * np.max(np.abs(truth))
            else:
                g.flat[idx] *= 1 + rel
            planted = {tuple(int(i) for i in np.unravel_index(j, g.shape)) for j in idx}
        found = localize(loss, p.params.W[0], g)
        if k == 0:
            outcome = "reported as structured (more than 5 wrong)" if not found.complete else "listed"
        else:
            outcome = "exactly the planted entries" if set(found.wrong) == planted and found.complete else f"found {found.wrong}"
        rows.append([label, f"{g.size:,}", outcome, f"{found.evaluations}"])
        print(rows[-1], flush=True)
    return table(["planted in ∇W1 of MNIST 64×784-128-10", "entries", "localised", "loss evaluations"], rows,
                 right=[False, True, False, True])


STARTUP = r"""
import json, sys, time
start = time.perf_counter()
import gradcheck
imported = time.perf_counter() - start
sys.path.insert(0, "bench")
from peers import SIZES, correct, problem
from gradcheck import oracle
from gradcheck.verification import verify
m, widths = SIZES["MNIST 64×784-128-10"]
times = []
for seed in range(4):
    p = problem(widths, m, seed=seed)
    g = {f"W{i + 1}": x for i, x in enumerate(correct(p))}
    start = time.perf_counter()
    verify(p, g)
    times.append(time.perf_counter() - start)
info = oracle.cache_info()
print(json.dumps({"import": imported, "first": times[0], "warm": min(times[1:]), "hits": info.hits, "misses": info.misses}))
"""


def startup() -> str:
    root = pathlib.Path(__file__).resolve().parent.parent
    importtime = subprocess.run([sys.executable, "-X", "importtime", "-c", "import gradcheck"], capture_output=True,
                                text=True, cwd=root, check=True).stderr
    cumulative = max(int(line.split("|")[1]) for line in importtime.splitlines()
                     if line.rstrip().endswith("gradcheck") and "|" in line)
    run = json.loads(subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, cwd=root,
                                    check=True).stdout)
    rows = [
        ["import gradcheck (python -X importtime, cumulative)", f"{cumulative / 1e3:.1f} ms", "JAX loads on first use, not here"],
        ["import gradcheck (wall, in a fresh process)", f"{run['import'] * 1e3:.1f} ms", ""],
        ["first verify() of a session (imports JAX, compiles the oracle)", f"{run['first'] * 1e3:,.0f} ms",
         f"{run['first'] / run['warm']:,.0f}x a warm call"],
        ["later verify() calls, same shapes (cache hit)", f"{run['warm'] * 1e3:.1f} ms",
         f"oracle cache: {run['misses']} compile, {run['hits']} reuses in 4 calls"],
    ]
    return table(["start-up cost, MNIST 64×784-128-10", "time", "note"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two sizes, fewer repeats and cases: a smoke run")
    parser.add_argument("--cases", type=int, default=200, help="correct cases of each kind for gradcheck")
    parser.add_argument("--peer-cases", type=int, default=20, help="correct cases of each kind for the peers")
    parser.add_argument("--sample", type=int, default=2000, help="entries the per-entry FD loop is timed on")
    args = parser.parse_args()
    sizes = dict(list(SIZES.items())[:2]) if args.quick else SIZES
    cases, peer_cases, repeat = (10, 3, 1) if args.quick else (args.cases, args.peer_cases, 7)
    command = f"python bench/peers.py{' --quick' if args.quick else ''}"
    sections = [
        f"# gradcheck and its peers\n\nRegenerate with `{command}`. One run on a shared 2-core machine, ReLU networks, "
        "every checker in the same process on the same problems: read the ratios.\n",
        "## Speed on a correct gradient\n\nMedian of 7 runs (1 when a run takes over a second), warm.\n\n```\n"
        + speed(repeat, sizes) + "\n```\n",
        "## Planted bugs and false alarms\n\nBugs: " + "; ".join(BUGS) + ". Correct cases: generic, with three "
        "pre-activations within 1e-7 of ReLU's kink, and with three exactly on it.\n\n```\n"
        + detection(cases, peer_cases, sizes) + "\n```\n",
        "## Full finite-difference gradients of W1\n\nThe per-entry loop (one kink-aware Richardson estimate per entry, "
        "`finite_diff`) against `network_fd.gradient`, which perturbs a whole column of entries in one stacked "
        "evaluation.\n\n```\n" + full_fd(args.sample, sizes) + "\n```\n",
    ]
    if not args.quick:
        sections.append("## Localising wrong entries without an oracle\n\n`gradcheck.localize`: directional "
                        "derivatives along random-weight indicator vectors of halving blocks.\n\n```\n"
                        + localisation() + "\n```\n")
    sections.append("## Start-up\n\n```\n" + startup() + "\n```\n")
    text = "\n".join(sections)
    print(text)
    path = pathlib.Path(__file__).with_name("RESULTS.md" if not args.quick else "RESULTS-quick.md")
    path.write_text(text, encoding="utf-8")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
