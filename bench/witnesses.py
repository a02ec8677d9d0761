"""What each witness costs and how exact it is, side by side on one network.

Runs on the seed's two-layer network 784-128-10 (ReLU, batch 64, ≈102k
parameters) by default. Costs are quoted in forward passes of the numpy
reference (the unit every gradient checker pays in), errors against the
float64 JAX oracle. Per-entry finite differences are timed on a random sample
of entries and extrapolated to all P entries. Evaluations of the loss are counted
as the estimators make them, beyond one shared f(x).

    python bench/witnesses.py [--widths 784,128,10] [--batch 64] [--sample 200] [--directions 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gradcheck import finite_diff, report
from gradcheck.witnesses import closed_form, jax_autodiff, make_problem
from reference_mlp import Architecture, mlp


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", default="784,128,10")
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--sample", type=int, default=200, help="entries of W1 timed for per-entry methods")
    parser.add_argument("--directions", type=int, default=8, help="random directions for the directional check")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    arch = Architecture.build(tuple(int(w) for w in args.widths.split(",")), hidden=args.activation)
    p = make_problem(arch, m=args.batch, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    P = arch.n_params
    forward = best_of(lambda: mlp.loss(p.arch, p.params, p.X, p.y))

    truth = jax_autodiff(p)  # compiles once
    compile_free = best_of(lambda: jax_autodiff(p))
    closed = best_of(lambda: closed_form(p))
    exact = closed_form(p)
    rows = [
        ["closed form (Eqs. 14, 15)", "1 fwd + 1 bwd", f"{closed / forward:.1f}",
         f"{max(np.max(np.abs(exact[k] - truth[k])) / np.max(np.abs(truth[k])) for k in truth):.1e}"],
        ["JAX oracle (compiled)", "1 fwd + 1 bwd", f"{compile_free / forward:.1f}", "0 (reference)"],
    ]

    W1 = p.params.W[0]
    def loss_W1(W):
        return mlp.loss(p.arch, p.params.replace("W1", W), p.X, p.y)
    def pieces_W1(W):
        return mlp.kink_pieces(p.arch, p.params.replace("W1", W), p.X)

    f0 = loss_W1(W1)  # shared, as a checker shares it: every count below is of evaluations beyond it

    # Per-entry methods on a sample of W1's entries, extrapolated to every parameter. Evaluations are
    # counted as each estimate makes them.
    flat = rng.choice(W1.size, size=min(args.sample, W1.size), replace=False)
    for method in ("central", "richardson", "complex"):
        errors, spent, start = [], 0, time.perf_counter()
        for k in flat:
            e = np.zeros(W1.shape)
            e.flat[k] = 1.0
            d = finite_diff.directional(loss_W1, W1, e, method=method, region=pieces_W1, f0=f0)
            spent += d.evaluations
            if d.checkable:
                errors.append(abs(d.value - truth["W1"].flat[k]) / max(abs(truth["W1"].flat[k]), 1e-5 * np.max(np.abs(truth["W1"]))))
        per_eval = (time.perf_counter() - start) / spent
        per_entry = spent / len(flat)
        rows.append([f"per-entry {method}, all entries", f"{per_entry:g} per entry: {per_entry * P:,.0f}",
                     f"{per_entry * P * per_eval / forward:,.0f}", f"{max(errors):.1e}"])

    # Directional checks: k random directions over all of W1, each 1–4 evaluations, counted.
    for method in ("central", "richardson", "complex"):
        errors, spent, start = [], 0, time.perf_counter()
        for _ in range(args.directions):
            v = rng.standard_normal(W1.shape)
            d = finite_diff.directional(loss_W1, W1, v, method=method, region=pieces_W1, f0=f0)
            spent += d.evaluations
            if d.checkable:
                exact_jvp = float(np.sum(truth["W1"] * v))
                errors.append(abs(d.value - exact_jvp) / abs(exact_jvp))
        elapsed = time.perf_counter() - start
        rows.append([f"directional {method}, {args.directions} directions", f"{spent}",
                     f"{elapsed / forward:,.0f}", f"{max(errors):.1e}" if errors else "all crossed a kink"])

    print(f"witness cost on {arch.describe()}, m={args.batch}, P={P:,} parameters, seed {args.seed}")
    print("cost is in forward passes of the numpy reference; error is max relative error against JAX\n")
    print(report.table(["witness", "evaluations", "cost (forward passes)", "max rel err"], rows, right=[False, True, True, True]))


if __name__ == "__main__":
    main()
