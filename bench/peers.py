"""gradcheck against its peers, side by side in one process on the same problems.

Checkers, each handed the same manual gradient function (the reference
backprop, or a copy with a planted bug):

- gradcheck: the user's gradients compared entrywise with the JAX oracle
  (one compiled forward+backward, warm) — the default check of user code;
- torch.autograd.gradcheck, slow (2P loss evaluations) and fast mode, on a
  torch.autograd.Function whose backward is the manual gradient;
- jax.test_util.check_grads (reverse mode) on a jax.custom_vjp whose backward
  is the manual gradient;
- numdifftools.Gradient with a fixed central step (small sizes only);
- the per-entry central-difference loop courses ship (CS231n's
  eval_numerical_gradient, h = 1e-5, relative error < 1e-7).

Measured: median wall time, loss evaluations, cost in forward passes, ratio to
gradcheck; detection of planted bugs; false alarms on correct cases, generic
and with pre-activations within 1e-7 of ReLU's kink. Writes bench/RESULTS.md.

    pip install -e ".[bench]" && python bench/peers.py [--quick]
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import time
import warnings
from typing import Callable

import numpy as np

from gradcheck.compare import compare
from gradcheck.diagnose import variant_gradients
from gradcheck.report import table
from gradcheck.witnesses import Problem, jax_autodiff
from reference_mlp import mlp
from reference_mlp.mlp import Architecture, Params

SIZES = {  # name: (m, widths)
    "small 8×20-16-5": (8, (20, 16, 5)),
    "medium 32×100-64-10": (32, (100, 64, 10)),
    "MNIST 64×784-128-10": (64, (784, 128, 10)),
    "4-layer 64×256-128-64-10": (64, (256, 128, 64, 10)),
}
Grads = Callable[[Problem], list]


def problem(widths, m, seed, kink=False) -> Problem:
    arch = Architecture.build(widths, hidden="relu")
    rng = np.random.default_rng(seed)
    params = mlp.init_params(arch, rng)
    X = rng.standard_normal((m, widths[0]))
    if kink:  # move a few pre-activations of the first layer to within 1e-7 of 0
        for row in range(min(3, m)):
            col = row % widths[1]
            X[row, -1] -= (X[row] @ params.W[0][:, col] - rng.uniform(-1e-7, 1e-7)) / params.W[0][-1, col]
    return Problem(arch, params, X, rng.integers(0, widths[-1], m))


def loss_of(p: Problem, Ws) -> float:
    return float(mlp.loss(p.arch, Params(tuple(Ws), (None,) * len(Ws)), p.X, p.y))


# ---------------------------------------------------------------------------- the gradients under test

def correct(p: Problem) -> list:
    return list(mlp.gradients(p.arch, p.params, p.X, p.y).dW)


def entry_off(rel: float) -> Grads:
    def grads(p):
        g = correct(p)
        g[0] = g[0].copy()
        i = np.unravel_index(np.argmax(np.abs(g[0])), g[0].shape)
        g[0][i] *= 1 + rel
        return g
    return grads


def from_variant(**switch) -> Grads:
    return lambda p: [variant_gradients(p, **switch)[f"W{i + 1}"] for i in range(p.arch.depth)]


def transposed_block(p):
    g = correct(p)
    g[0] = g[0].copy()
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


def ours(p: Problem, grads: Grads, counter: Counter) -> bool:
    truth = jax_autodiff(p)
    counter.n += 1  # one compiled forward + backward
    return all(compare(g, truth[f"W{i + 1}"], tensor=f"W{i + 1}").passed for i, g in enumerate(grads(p)))


def torch_gradcheck(fast: bool) -> Callable:
    import torch

    def check(p: Problem, grads: Grads, counter: Counter) -> bool:
        class Manual(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *Ws):
                ctx.save_for_backward(*Ws)
                counter.n += 1
                return torch.tensor(loss_of(p, [w.detach().numpy() for w in Ws]), dtype=torch.float64)

            @staticmethod
            def backward(ctx, g):
                Ws = [w.detach().numpy() for w in ctx.saved_tensors]
                q = Problem(p.arch, Params(tuple(Ws), (None,) * len(Ws)), p.X, p.y)
                return tuple(g * torch.from_numpy(np.ascontiguousarray(d)) for d in grads(q))

        inputs = tuple(torch.tensor(W, requires_grad=True, dtype=torch.float64) for W in p.params.W)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(torch.autograd.gradcheck(Manual.apply, inputs, fast_mode=fast, raise_exception=False))
    return check


def jax_check_grads(p: Problem, grads: Grads, counter: Counter) -> bool:
    import jax
    from jax.test_util import check_grads

    from gradcheck import oracle

    oracle._jax()  # float64 on
    shapes = tuple(jax.ShapeDtypeStruct(W.shape, np.float64) for W in p.params.W)

    def host_loss(*Ws):
        counter.n += 1
        return np.float64(loss_of(p, [np.asarray(w) for w in Ws]))

    def host_grads(*Ws):
        Ws = [np.asarray(w) for w in Ws]
        return tuple(np.asarray(d, np.float64) for d in grads(Problem(p.arch, Params(tuple(Ws), (None,) * len(Ws)), p.X, p.y)))

    @jax.custom_vjp
    def f(*Ws):
        return jax.pure_callback(host_loss, jax.ShapeDtypeStruct((), np.float64), *Ws)

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
        return loss_of(p, [part.reshape(s) for part, s in zip(np.split(theta, cuts), shapes)])

    numeric = nd.Gradient(flat_loss, step=1e-6, method="central")(np.concatenate([W.ravel() for W in p.params.W]))
    analytic = np.concatenate([g.ravel() for g in grads(p)])
    return bool(np.allclose(analytic, numeric, rtol=1e-5, atol=1e-8))


def course_loop(p: Problem, grads: Grads, counter: Counter) -> bool:
    analytic = grads(p)
    for i, W in enumerate(p.params.W):
        numeric = np.zeros_like(W)
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


CHECKERS = {
    "gradcheck (entrywise vs JAX)": (ours, None),
    "torch gradcheck, fast": (torch_gradcheck(True), None),
    "jax check_grads": (jax_check_grads, None),
    "torch gradcheck, slow": (torch_gradcheck(False), 20_000),
    "numdifftools, fixed step": (numdifftools_check, 3_000),
    "course loop (eval_numerical_gradient)": (course_loop, 20_000),
}  # checker: (function, largest parameter count it is run on here)


def timed(check, p, grads, repeat) -> tuple[float, int, bool]:
    times, verdict, evaluations = [], None, 0
    for _ in range(repeat):
        counter = Counter()
        start = time.perf_counter()
        verdict = check(p, grads, counter)
        times.append(time.perf_counter() - start)
        evaluations = counter.n
    return statistics.median(times), evaluations, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and correct cases")
    parser.add_argument("--cases", type=int, default=200, help="correct cases of each kind for gradcheck")
    parser.add_argument("--peer-cases", type=int, default=20, help="correct cases of each kind for the peers")
    args = parser.parse_args()
    cases, peer_cases, repeat = (20, 5, 1) if args.quick else (args.cases, args.peer_cases, 3)
    out = [f"# gradcheck and its peers\n\nRegenerate with `python bench/peers.py`{' --quick' if args.quick else ''}. "
           "One run on a shared 2-core machine, float64, ReLU networks: read the ratios.\n"]

    speed_rows = []
    for size, (m, widths) in SIZES.items():
        p = problem(widths, m, seed=0)
        P = p.arch.n_params
        forward = min(timed(lambda q, g, c: loss_of(q, q.params.W), p, None, 1)[0] for _ in range(7))
        jax_autodiff(p)  # compile once, as a test session would
        base = None
        for name, (check, limit) in CHECKERS.items():
            if limit is not None and P > limit:
                speed_rows.append([size, name, "-", "-", "-", "-", f"not run (P = {P:,})"])
                continue
            seconds, evaluations, verdict = timed(check, p, correct, 1 if limit else repeat)
            base = base or seconds
            speed_rows.append([size, name, f"{seconds * 1e3:,.1f}", f"{evaluations:,}", f"{seconds / forward:,.1f}",
                               f"{seconds / base:,.1f}x", "passes" if verdict else "REJECTS the correct gradient"])
    speed = table(["problem", "checker", "ms", "loss evals", "forward passes", "vs gradcheck", "verdict on correct"],
                  speed_rows, right=[False, False, True, True, True, True, False])
    print(speed)
    out.append("## Speed on a correct gradient\n\n```\n" + speed + "\n```\n")

    detect_rows = []
    for size, (m, widths) in list(SIZES.items())[:2] if args.quick else SIZES.items():
        p = problem(widths, m, seed=1)
        for name, (check, limit) in CHECKERS.items():
            if limit is not None and p.arch.n_params > limit:
                continue
            caught = [bug for bug, grads in BUGS.items() if not timed(check, p, grads, 1)[2]]
            generic = kinky = 0
            n = cases if name.startswith("gradcheck") else peer_cases
            for seed in range(n):
                generic += not timed(check, problem(widths, m, seed=100 + seed), correct, 1)[2]
                kinky += not timed(check, problem(widths, m, seed=100 + seed, kink=True), correct, 1)[2]
            missed = [bug for bug in BUGS if bug not in caught]
            detect_rows.append([size, name, f"{len(caught)}/{len(BUGS)}", ", ".join(missed) or "-",
                                f"{generic}/{n}", f"{kinky}/{n}"])
            print(detect_rows[-1])
    detect = table(["problem", "checker", "bugs caught", "missed", "false alarms (generic)", "false alarms (near kink)"],
                   detect_rows, right=[False, False, True, False, True, True])
    print(detect)
    out.append("## Planted bugs and false alarms\n\nBugs: " + "; ".join(BUGS) + ".\n\n```\n" + detect + "\n```\n")
    path = pathlib.Path(__file__).with_name("RESULTS.md")
    path.write_text("\n".join(out), encoding="utf-8")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
