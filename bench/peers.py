"""gradcheck against its peers, like compared with like, in one process on the same problems.

Two scenarios, reported apart because the checkers in them know different things:

- **same information**: the checker knows the network and computes the true
  gradient itself. gradcheck's default ``verify`` (the closed form on every
  entry, finite differences along two directions, JAX only to confirm a
  rejected tensor) and ``verify(witness="all")`` against ``jax.grad``,
  torch autograd and gradcheck's own closed form, each followed by
  ``np.testing.assert_allclose``;
- **black box**: the checker has only the loss f and the claimed gradient g.
  gradcheck's ``check_gradient`` (random directions by the complex step, group
  testing when one disagrees) against torch.autograd.gradcheck (slow and fast),
  jax.test_util.check_grads, numdifftools and the per-entry loop courses ship.

Every evaluation is counted as it happens (forward and backward passes of the
network, stacked finite-difference passes, autodiff calls, evaluations of f),
never computed from a formula. Bugs are planted at random entries of ∇W1 and
the percentile of |∇W1| at each is reported with the detection rate.

Further sections: full finite-difference gradients (``network_fd``),
localisation without an oracle, start-up, and ``gradcheck check`` in a cold
process (``bench/instant.py``). RESULTS.md is rewritten after every section.

    pip install -e ".[bench]" && python bench/peers.py [--only SECTION ...] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

import reference_mlp.mlp
from gradcheck import finite_diff, network_fd, oracle
from gradcheck.checks import check_gradient
from gradcheck.diagnose import variant_gradients
from gradcheck.localize import localize
from gradcheck.report import table
from gradcheck.verification import verify
from gradcheck.witnesses import Problem, closed_form
from reference_mlp import mlp
from reference_mlp.mlp import Architecture, Params

HERE = pathlib.Path(__file__).resolve().parent
# torch's OpenMP threads spin for a while after each call by default, holding the cores from whatever runs
# next in this process; asleep when idle, they slow only torch itself (set before torch is first imported).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
SIZES = {  # name: (m, widths)
    "small 8×20-16-5": (8, (20, 16, 5)),
    "medium 32×100-64-10": (32, (100, 64, 10)),
    "MNIST 64×784-128-10": (64, (784, 128, 10)),
    "4-layer 64×256-128-64-10": (64, (256, 128, 64, 10)),
}
DTYPES = {"float64": np.float64, "float32": np.float32}
REPEATED = 20_000  # largest P at which a per-entry peer runs the planted-bug and false-alarm cases
NOT_FOR_FLOAT32 = "not designed for float32"
SAID = {True: "passes", False: "REJECTS it", None: "inconclusive"}
Grads = Callable[[Problem], list]


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


def from_variant(**switch) -> Grads:
    def grads(p):
        dtype = p.params.W[0].dtype
        return [variant_gradients(p, **switch)[f"W{i + 1}"].astype(dtype) for i in range(p.arch.depth)]
    return grads


def transposed_block(p):
    g = correct(p)
    g[0][:3, :3] = g[0][:3, :3].T.copy()
    return g


STRUCTURAL: dict[str, Grads] = {
    "missing σ'": from_variant(derivative="none"),
    "pre-activation for activation": from_variant(dW_from="preactivation"),
    "sum instead of mean": lambda p: [g * len(p.X) for g in correct(p)],
    "sign flip": from_variant(scale=-1.0),
    "transposed 3×3 block": transposed_block,
}


@dataclass(frozen=True)
class Plant:
    """One entry of ∇W1 off by a relative ``rel``, at flat index ``at``."""

    rel: float
    at: int

    def __call__(self, p: Problem) -> list:
        g = correct(p)
        g[0].flat[self.at] *= 1 + self.rel
        return g


def plants(p: Problem, rel: float, k: int, seed: int) -> tuple[list[Plant], list[float]]:
    """``k`` random entries of ∇W1 to put off by ``rel``, and the percentile of |∇W1| at each."""
    size = p.params.W[0].size
    at = np.random.default_rng(seed).choice(size, size=min(k, size), replace=False)
    magnitude = np.abs(closed_form(p)["W1"]).ravel()
    ranks = np.argsort(np.argsort(magnitude))
    return [Plant(rel, int(j)) for j in at], [100.0 * ranks[j] / max(size - 1, 1) for j in at]


# ---------------------------------------------------------------------------- counting what a checker spends

@dataclass
class Counts:
    """What one check spent, counted as it happened."""

    forward: int = 0  # full forward passes of the numpy network
    backward: int = 0  # backward passes of the closed form (Eqs. 14, 15)
    tails: int = 0  # stacked finite-difference passes through the layers after a perturbed one
    autodiff: int = 0  # calls of an autodiff system (JAX, torch), each a forward and a backward pass
    f: int = 0  # evaluations of the loss handed to a black-box checker
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def counting(counts: Counts) -> Iterator[None]:
    """Count every call of the reference's forward and backward, network_fd's tail passes and the JAX oracle."""
    targets = [(reference_mlp.mlp, "forward", "forward"), (reference_mlp.mlp, "backward", "backward"),
               (network_fd, "_tail", "tails"), (oracle, "gradients", "autodiff")]
    originals = [(module, name, getattr(module, name)) for module, name, _ in targets]

    def counted(fn, slot):
        def wrapper(*args, **kwargs):
            setattr(counts, slot, getattr(counts, slot) + 1)
            return fn(*args, **kwargs)
        return wrapper

    for (module, name, fn), (_, _, slot) in zip(originals, targets):
        setattr(module, name, counted(fn, slot))
    try:
        yield
    finally:
        for module, name, fn in originals:
            setattr(module, name, fn)


Checker = Callable[[Problem, Grads, Counts], "bool | None"]  # passed, failed, or None: inconclusive


def timed(check: Checker, p: Problem, grads: Grads, repeat: int) -> tuple[float, Counts, bool]:
    """Median wall time of up to ``repeat`` runs (one, if the first takes over a second), the counts of the last."""
    times, verdict, counts = [], False, Counts()
    for _ in range(repeat):
        counts = Counts()
        start = time.perf_counter()
        verdict = check(p, grads, counts)
        times.append(time.perf_counter() - start)
        if times[0] > 1.0:
            break
    return statistics.median(times), counts, verdict


def interleaved(checkers: dict[str, Checker], p: Problem, rounds: int) -> dict[str, tuple[float, Counts, bool]]:
    """Median wall time of each checker over ``rounds`` rounds that run every checker once, in turn, so that
    a machine growing busier slows all of them alike; the counts and verdict of each one's last run.

    The order rotates every round: a checker whose threads keep spinning after it returns (torch's OpenMP
    pool does) slows whichever runs next, and so each follows each the same number of times.
    """
    times: dict[str, list[float]] = {name: [] for name in checkers}
    last = {}
    names = list(checkers)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            seconds, counts, verdict = timed(checkers[name], p, correct, 1)
            times[name].append(seconds)
            last[name] = (counts, verdict)
    return {name: (statistics.median(times[name]), *last[name]) for name in checkers}


# ---------------------------------------------------------------------------- same information

ALLCLOSE = {np.float64: dict(rtol=1e-7, atol=0.0), np.float32: dict(rtol=1e-4, atol=0.0)}


def allclose(yours: list, truth: list, dtype) -> bool:
    try:
        for a, b in zip(yours, truth):
            np.testing.assert_allclose(a, b, **ALLCLOSE[np.dtype(dtype).type])
        return True
    except AssertionError:
        return False


def gradcheck_verify(witness: str) -> Checker:
    def check(p, grads, counts):
        with counting(counts):
            result = verify(p, {f"W{i + 1}": g for i, g in enumerate(grads(p))}, witness=witness)
        return None if result.inconclusive else result.passed
    return check


def closed_form_allclose(p, grads, counts):
    yours = grads(p)
    with counting(counts):
        exact = closed_form(Problem(p.arch, Params(tuple(W.astype(np.float64) for W in p.params.W), p.params.b),
                                    p.X.astype(np.float64), p.y))
    return allclose(yours, [exact[f"W{i + 1}"] for i in range(p.arch.depth)], p.X.dtype)


_JAX_GRADS: dict = {}


def jax_grad_allclose(p, grads, counts):
    import jax
    import jax.numpy as jnp

    oracle._jax()  # float64 on
    key = p.arch.widths
    if key not in _JAX_GRADS:
        def loss(Ws, X, y):
            Z = X
            for i, W in enumerate(Ws):
                A = Z @ W
                Z = A if i == len(Ws) - 1 else jnp.maximum(A, 0)
            return -jnp.mean(jax.nn.log_softmax(Z)[jnp.arange(len(y)), y])
        _JAX_GRADS[key] = jax.jit(jax.grad(loss))
    yours = grads(p)
    counts.autodiff += 1
    truth = _JAX_GRADS[key]([jnp.asarray(W, jnp.float64) for W in p.params.W], jnp.asarray(p.X, jnp.float64),
                            jnp.asarray(p.y))
    return allclose(yours, [np.asarray(t) for t in truth], p.X.dtype)


def torch_allclose(p, grads, counts):
    import torch

    yours = grads(p)
    Ws = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in p.params.W]
    Z = torch.from_numpy(p.X.astype(np.float64))
    for i, W in enumerate(Ws):
        A = Z @ W
        Z = A if i == len(Ws) - 1 else torch.relu(A)
    counts.autodiff += 1
    torch.nn.functional.cross_entropy(Z, torch.from_numpy(p.y)).backward()
    return allclose(yours, [W.grad.numpy() for W in Ws], p.X.dtype)


SAME_INFORMATION: dict[str, Checker] = {
    "gradcheck verify (default: auto)": gradcheck_verify("auto"),
    "gradcheck verify (witness='all')": gradcheck_verify("all"),
    "closed form + assert_allclose": closed_form_allclose,
    "jax.grad + assert_allclose": jax_grad_allclose,
    "torch autograd + assert_allclose": torch_allclose,
}
PEER = "jax.grad + assert_allclose"


# ---------------------------------------------------------------------------- black box

def counted_loss(p: Problem, counts: Counts) -> Callable:
    def f(*Ws):
        counts.f += 1
        return loss_of(p, Ws)
    return f


def gradcheck_black_box(p, grads, counts):
    result = check_gradient(counted_loss(p, counts), list(p.params.W), grads(p))
    counts.notes += [c.note for c in result.failures if c.note]
    return None if result.inconclusive else result.passed


def torch_gradcheck(fast: bool) -> Checker:
    def check(p, grads, counts):
        import torch

        dtype = torch.float64 if p.X.dtype == np.float64 else torch.float32
        f = counted_loss(p, counts)

        class Manual(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *Ws):
                ctx.save_for_backward(*Ws)
                return torch.tensor(f(*[w.detach().numpy() for w in Ws]), dtype=dtype)

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


def jax_check_grads(p, grads, counts):
    import jax
    from jax.test_util import check_grads

    oracle._jax()  # float64 on
    dtype = p.X.dtype
    shapes = tuple(jax.ShapeDtypeStruct(W.shape, dtype) for W in p.params.W)
    f = counted_loss(p, counts)

    def host_loss(*Ws):
        return np.asarray(f(*[np.asarray(w) for w in Ws]), dtype)

    def host_grads(*Ws):
        Ws = [np.asarray(w) for w in Ws]
        return tuple(np.asarray(d, dtype) for d in grads(Problem(p.arch, Params(tuple(Ws), (None,) * len(Ws)), p.X, p.y)))

    @jax.custom_vjp
    def loss(*Ws):
        return jax.pure_callback(host_loss, jax.ShapeDtypeStruct((), dtype), *Ws)

    def loss_fwd(*Ws):
        return loss(*Ws), Ws

    def loss_bwd(Ws, g):
        return tuple(g * d for d in jax.pure_callback(host_grads, shapes, *Ws))

    loss.defvjp(loss_fwd, loss_bwd)
    try:
        check_grads(loss, tuple(p.params.W), order=1, modes=("rev",))
        return True
    except AssertionError:
        return False


def numdifftools_check(p, grads, counts):
    import numdifftools as nd

    shapes = [W.shape for W in p.params.W]
    cuts = np.cumsum([np.prod(s) for s in shapes])[:-1]
    f = counted_loss(p, counts)

    def flat_loss(theta):
        return f(*[part.reshape(s).astype(p.X.dtype) for part, s in zip(np.split(theta, cuts), shapes)])

    numeric = nd.Gradient(flat_loss, step=1e-6, method="central")(np.concatenate([W.ravel() for W in p.params.W]))
    analytic = np.concatenate([g.ravel() for g in grads(p)])
    return bool(np.allclose(analytic, numeric, rtol=1e-5, atol=1e-8))


def course_loop(p, grads, counts):
    """CS231n's eval_numerical_gradient: h = 1e-5 per entry, then relative error < 1e-7."""
    analytic, f = grads(p), counted_loss(p, counts)
    for i, W in enumerate(p.params.W):
        numeric = np.zeros(W.shape)
        Ws = [w.copy() for w in p.params.W]
        for index in np.ndindex(W.shape):
            old = Ws[i][index]
            Ws[i][index] = old + 1e-5
            plus = f(*Ws)
            Ws[i][index] = old - 1e-5
            minus = f(*Ws)
            Ws[i][index] = old
            numeric[index] = (plus - minus) / 2e-5
        rel = np.max(np.abs(numeric - analytic[i]) / np.maximum(1e-8, np.abs(numeric) + np.abs(analytic[i])))
        if rel > 1e-7:
            return False
    return True


@dataclass(frozen=True)
class Peer:
    check: Checker
    per_entry: bool  # spends about 2P evaluations (torch's fast mode too, when it fails: it reruns slow mode)
    float32: bool  # runs in float32: its documentation gives it float32 settings
    largest: int | None = None  # largest P it is run at at all (memory or hours beyond)


BLACK_BOX: dict[str, Peer] = {
    "gradcheck check_gradient": Peer(gradcheck_black_box, False, True),
    # torch: "The default values are designed for input of double precision."
    "torch gradcheck, fast": Peer(torch_gradcheck(True), True, False),
    "torch gradcheck, slow": Peer(torch_gradcheck(False), True, False),
    "jax check_grads": Peer(jax_check_grads, False, True),  # tolerances keyed by dtype, float32 among them
    "numdifftools, fixed step": Peer(numdifftools_check, True, False, largest=10_000),
    "course loop (eval_numerical_gradient)": Peer(course_loop, True, False),  # CS231n checks in float64
}
OURS = "gradcheck check_gradient"


# ---------------------------------------------------------------------------- the sections

@dataclass(frozen=True)
class Settings:
    sizes: dict
    repeat: int  # runs a timing is the median of
    rotations: int  # same information: times every checker runs after each other one
    plants: int  # random entries planted per size, dtype and error size
    cases: int  # correct cases of each kind per size and dtype for gradcheck
    peer_cases: int  # … and for the peers
    sample: int  # entries the per-entry finite-difference loop is timed on
    rounds: int  # rounds of bench/instant.py


def progress(section: str, *parts: str) -> None:
    print(f"[{section}] " + "  ".join(parts), file=sys.stderr, flush=True)


def detection(name: str, check: Checker, size: str, m: int, widths: tuple, dtype, cases: int, k: int,
              section: str) -> tuple[list[str], dict]:
    """Planted random-entry and structural bugs caught, false alarms on correct gradients."""
    p = problem(widths, m, seed=1, dtype=dtype)
    row, detail = [], {}
    for rel, seed in ((1e-6, 11), (1e-3, 12)):
        planted, percentiles = plants(p, rel, k, seed)
        verdicts = [timed(check, p, plant, 1)[2] for plant in planted]
        row.append(tally(verdicts))
        detail[rel] = (percentiles, [q for q, v in zip(percentiles, verdicts) if v is not False])
    verdicts = {bug: timed(check, p, grads, 1)[2] for bug, grads in STRUCTURAL.items()}
    row.append(tally(list(verdicts.values())))
    detail["missed structural"] = [bug for bug, v in verdicts.items() if v is not False]
    for kind in (None, "near", "on"):
        verdicts = [timed(check, problem(widths, m, seed=100 + s, kink=kind, dtype=dtype), correct, 1)[2]
                    for s in range(cases)]
        row.append(tally(verdicts))
    progress(section, f"{size} {np.dtype(dtype).name}", name, "caught 1e-6, 1e-3, structural; false alarms:", *row)
    return row, detail


def tally(verdicts: list) -> str:
    """How many checks failed (a bug caught, or a false alarm), and how many could not decide."""
    undecided = sum(v is None for v in verdicts)
    return f"{sum(v is False for v in verdicts)}/{len(verdicts)}" + (f" ({undecided} inconclusive)" if undecided else "")


def percentiles_line(label: str, detail: dict) -> str:
    def span(values):
        return f"{min(values):.0f}–{max(values):.0f} (median {statistics.median(values):.0f})" if values else "-"
    return f"- {label}: planted at percentiles {span(detail[1e-6][0])} of |∇W1|"


def same_information(s: Settings) -> str:
    section = "same-information"
    speed, caught, lines = [], [], []
    for dtype_name, dtype in DTYPES.items():
        for size, (m, widths) in s.sizes.items():
            p = problem(widths, m, seed=0, dtype=dtype)
            label = f"{size} {dtype_name}"
            for name, check in SAME_INFORMATION.items():
                timed(check, p, correct, 1)  # compile or import once, as a test session would
            results = interleaved(SAME_INFORMATION, p, s.rotations * len(SAME_INFORMATION))
            base = results[PEER][0]
            for name, (seconds, c, verdict) in results.items():
                speed.append([label, name, f"{seconds * 1e3:,.2f}", f"{c.forward}", f"{c.backward}", f"{c.tails}",
                              f"{c.autodiff}", f"{seconds / base:.2f}x", SAID[verdict]])
                progress(section, *speed[-1])
            for name, check in SAME_INFORMATION.items():
                row, detail = detection(name, check, size, m, widths, dtype, s.cases, s.plants, section)
                caught.append([label, name, *row, ", ".join(detail["missed structural"]) or "-"])
            lines.append(percentiles_line(label, detail))
    return (
        "Each checker knows the network and computes the true gradient itself; the assert_allclose rows use numpy's "
        f"defaults in float64 ({ALLCLOSE[np.float64]}) and {ALLCLOSE[np.float32]} in float32, their truth in float64. "
        "Each check starts by producing the claimed gradient (the student's backprop), as a test would. "
        f"Counted per check: forward and backward passes of the numpy network, stacked finite-difference passes "
        f"(tails), autodiff calls (JAX or torch). Time: median of {s.rotations * len(SAME_INFORMATION)} warm runs, the "
        "checkers taking turns in an order that rotates every round; "
        f"ratio to {PEER}.\n\n```\n"
        + table(["problem", "checker", "ms", "forward", "backward", "FD tails", "autodiff", f"vs {PEER}",
                 "correct gradient"], speed, right=[False, False, True, True, True, True, True, True, False])
        + "\n```\n\n"
        f"Planted bugs: {s.plants} random entries of ∇W1 off by a relative 1e-6, {s.plants} off by 1e-3, and "
        f"{len(STRUCTURAL)} structural bugs ({', '.join(STRUCTURAL)}). False alarms: {s.cases} correct cases each, "
        "generic, with three pre-activations within 1e-7 of ReLU's kink, and with three exactly on it. A check "
        "that could not decide (INCONCLUSIVE) is counted apart, neither a catch nor a false alarm.\n\n```\n"
        + table(["problem", "checker", "1e-6 caught", "1e-3 caught", "structural caught", "false alarms: generic",
                 "near kink", "on kink", "structural missed"], caught,
                right=[False, False, True, True, True, True, True, True, False])
        + "\n```\n\n" + "\n".join(lines) + "\n"
    )


def black_box(s: Settings) -> str:
    section = "black-box"
    speed, caught, lines = [], [], []
    for dtype_name, dtype in DTYPES.items():
        for size, (m, widths) in s.sizes.items():
            p = problem(widths, m, seed=0, dtype=dtype)
            P, label = p.arch.n_params, f"{size} {dtype_name}"
            results = {}
            for name, peer in BLACK_BOX.items():
                if dtype is np.float32 and not peer.float32:
                    speed.append([label, name, "-", "-", "-", "-", NOT_FOR_FLOAT32])
                    continue
                if peer.largest and P > peer.largest:
                    speed.append([label, name, "-", "-", "-", "-", f"not run (P = {P:,}: memory)"])
                    continue
                if not peer.per_entry:
                    timed(peer.check, p, correct, 1)  # warm up (compile, import) once
                results[name] = timed(peer.check, p, correct, 1 if peer.per_entry else s.repeat)
                seconds, c, verdict = results[name]
                ours = results[OURS]
                speed.append([label, name, f"{seconds * 1e3:,.1f}", f"{c.f:,}", f"{seconds / ours[0]:,.1f}x",
                              f"{c.f / ours[1].f:,.1f}x", SAID[verdict]])
                progress(section, *speed[-1])
            for name, peer in BLACK_BOX.items():
                if name not in results or (peer.per_entry and P > REPEATED):
                    continue
                cases = s.cases if name == OURS else s.peer_cases
                row, detail = detection(name, peer.check, size, m, widths, dtype, cases, s.plants, section)
                caught.append([label, name, *row, ", ".join(detail["missed structural"]) or "-"])
                if name == OURS:
                    lines.append(percentiles_line(label, detail) + located(widths, m, dtype, s.plants))
    return (
        "Each checker has only the loss f (the student's forward, in the problem's dtype) and the claimed gradient. "
        "Evaluations of f are counted as they happen. Per-entry checkers (and torch's fast mode, which reruns slow "
        f"mode to explain a failure) run the planted bugs and false alarms only where P ≤ {REPEATED:,}; at larger "
        f"sizes they run once, on the correct gradient. \"{NOT_FOR_FLOAT32}\": the peer documents settings for "
        "float64 only (torch: \"designed for input of double precision\"; the course loop and numdifftools' fixed "
        f"step are float64 recipes), so its float32 rejections are not counted as false alarms. Time: median of "
        f"{s.repeat} warm runs (one for per-entry checkers).\n\n```\n"
        + table(["problem", "checker", "ms", "evaluations of f", "time vs gradcheck", "evaluations vs gradcheck",
                 "correct gradient"], speed, right=[False, False, True, True, True, True, False])
        + "\n```\n\n"
        f"Planted bugs: {s.plants} random entries of ∇W1 off by a relative 1e-6, {s.plants} off by 1e-3, and "
        f"{len(STRUCTURAL)} structural bugs. False alarms: {s.cases} correct cases of each kind for gradcheck, "
        f"{s.peer_cases} for the peers.\n\n```\n"
        + table(["problem", "checker", "1e-6 caught", "1e-3 caught", "structural caught", "false alarms: generic",
                 "near kink", "on kink", "structural missed"], caught,
                right=[False, False, True, True, True, True, True, True, False])
        + "\n```\n\n" + "\n".join(lines) + "\n"
    )


def located(widths: tuple, m: int, dtype, k: int) -> str:
    """How gradcheck's black-box check fared on the 1e-6 plants of the detection problem: located exactly, at
    what cost, and at which entries a relative 1e-6 error could hide below its allowance."""
    p = problem(widths, m, seed=1, dtype=dtype)
    exact, spent = 0, []
    planted, _ = plants(p, 1e-6, k, 11)
    for plant in planted:
        c = Counts()
        gradcheck_black_box(p, plant, c)
        index = ", ".join(map(str, np.unravel_index(plant.at, p.params.W[0].shape)))
        exact += any(re.search(rf"dx0\[{index}\] off by", note) for note in c.notes)
        spent.append(c.f)
    c = Counts()
    result = check_gradient(counted_loss(p, c), list(p.params.W), correct(p))
    # An entry off by e moves ⟨g, w⟩ by at least |e|/2 (|w| ≥ ½): above the allowance it cannot be missed.
    allowance = min(r.allowance for r in result.comparisons)
    magnitude = np.abs(closed_form(p)["W1"])
    hidden = {rel: float(np.mean(0.5 * rel * magnitude <= allowance)) for rel in (1e-6, 1e-3)}
    return (f"; 1e-6 entries located exactly by check_gradient: {exact}/{len(planted)}, in "
            f"{min(spent)}–{max(spent)} evaluations of f (a passing check: {c.f}); an entry off by a relative 1e-6 "
            f"can hide below the allowance at {100 * hidden[1e-6]:.2f}% of the entries of ∇W1 (the smallest), one off "
            f"by 1e-3 at {100 * hidden[1e-3]:.2f}%, and is seen for certain everywhere else")


def full_fd(s: Settings) -> str:
    rows = []
    for size, (m, widths) in s.sizes.items():
        p = problem(widths, m, seed=0)
        truth = closed_form(p)["W1"]
        W1 = p.params.W[0]
        loss, region = network_fd.loss_function(p, "W1"), network_fd.region_function(p, "W1")
        entries = np.random.default_rng(0).choice(W1.size, size=min(s.sample, W1.size), replace=False)
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
            progress("full-fd", *rows[-1])
    return ("The per-entry loop (one kink-aware Richardson estimate per entry, `finite_diff`) against "
            "`network_fd.gradient`, which perturbs a whole column of entries in one stacked evaluation.\n\n```\n"
            + table(["problem", "entries of W1", "per-entry loop s", "stacked method", "stacked s", "speed-up",
                     "max error / max|∇W1|", "not checkable (kink)"], rows,
                    right=[False, True, True, False, True, True, True, True]) + "\n```\n")


def localisation(s: Settings) -> str:
    m, widths = SIZES["MNIST 64×784-128-10"]
    p = problem(widths, m, seed=2)
    truth = closed_form(p)["W1"]
    loss = network_fd.loss_function(p, "W1")
    rng = np.random.default_rng(3)
    rows = []
    cases = {"1 entry off by 1e-3": (1, 1e-3), "2 entries off by 1e-3": (2, 1e-3), "3 entries off by 1e-3": (3, 1e-3),
             "3 entries off by 1e-2, equal errors": (3, None), "a whole column off by 1e-2": (0, 1e-2)}
    for label, (k, rel) in cases.items():
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
        progress("localize", *rows[-1])
    return ("`gradcheck.localize`: directional derivatives along random-weight indicator vectors of halving "
            "blocks.\n\n```\n" + table(["planted in ∇W1 of MNIST 64×784-128-10", "entries", "localised",
                                         "loss evaluations"], rows, right=[False, True, False, True]) + "\n```\n")


STARTUP = r"""
import json, sys, time
start = time.perf_counter()
import gradcheck
imported = time.perf_counter() - start
sys.path.insert(0, "bench")
from peers import SIZES, correct, problem
from gradcheck.verification import verify
m, widths = SIZES["MNIST 64×784-128-10"]
times = {}
for witness in ("auto", "all"):
    for seed in range(4):
        p = problem(widths, m, seed=seed)
        g = {f"W{i + 1}": x for i, x in enumerate(correct(p))}
        start = time.perf_counter()
        verify(p, g, witness=witness)
        times.setdefault(witness, []).append(time.perf_counter() - start)
print(json.dumps({"import": imported, "jax": "jax" in sys.modules, "times": times}))
"""


def startup(s: Settings) -> str:
    root = HERE.parent
    importtime = subprocess.run([sys.executable, "-X", "importtime", "-c", "import gradcheck"], capture_output=True,
                                text=True, cwd=root, check=True).stderr
    cumulative = max(int(line.split("|")[1]) for line in importtime.splitlines()
                     if line.rstrip().endswith("gradcheck") and "|" in line)
    run = json.loads(subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, cwd=root,
                                    check=True).stdout)
    auto, every = run["times"]["auto"], run["times"]["all"]
    rows = [
        ["import gradcheck (python -X importtime, cumulative)", f"{cumulative / 1e3:.1f} ms", "JAX loads on first use, not here"],
        ["import gradcheck (wall, in a fresh process)", f"{run['import'] * 1e3:.1f} ms", ""],
        ["first verify() of a session (default)", f"{auto[0] * 1e3:,.1f} ms", "the closed form decides: no JAX"],
        ["later verify() calls (default)", f"{min(auto[1:]) * 1e3:.1f} ms", ""],
        ["first verify(witness='all') (imports JAX, compiles the oracle)", f"{every[0] * 1e3:,.0f} ms",
         f"{every[0] / min(every[1:]):,.0f}x a warm call"],
        ["later verify(witness='all') calls, same shapes", f"{min(every[1:]) * 1e3:.1f} ms", "oracle cache hit"],
    ]
    progress("startup", "done")
    return "```\n" + table(["start-up cost, MNIST 64×784-128-10", "time", "note"], rows) + "\n```\n"


def instant(s: Settings) -> str:
    sys.path.insert(0, str(HERE))
    import instant as cold

    times = cold.measure(cold.DEFAULT, s.rounds)
    base = statistics.median(next(iter(times.values())))
    rows = [[name, f"{statistics.median(v):.3f}", f"{statistics.median(v) / base:.1f}x"] for name, v in times.items()]
    progress("instant", "done")
    return (f"`gradcheck check {cold.DEFAULT.relative_to(HERE.parent)}` (three functions of DLSys hw0) in a cold "
            f"process, alternating with `python -c 'import numpy'`; median of {s.rounds} rounds (`bench/instant.py`)."
            "\n\n```\n" + table(["command", "median s", "vs import numpy"], rows, right=[False, True, True]) + "\n```\n")


SECTIONS: dict[str, tuple[str, Callable[[Settings], str]]] = {
    "same-information": ("Same information: the checker knows the network", same_information),
    "black-box": ("Black box: only the loss and the claimed gradient", black_box),
    "full-fd": ("Full finite-difference gradients of W1", full_fd),
    "localize": ("Localising wrong entries without an oracle", localisation),
    "startup": ("Start-up", startup),
    "instant": ("A check in a cold process", instant),
}


def write(path: pathlib.Path, done: dict[str, str], command: str) -> None:
    """RESULTS.md with every section run so far, and those of an earlier run that this one did not redo."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = {}
    for name, (title, _) in SECTIONS.items():
        match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", old, re.S | re.M)
        if match:
            kept[name] = match.group(1).strip("\n") + "\n"
    kept |= done
    took = {name: float(t) for name, text in kept.items() for t in re.findall(r"^Section took (\d+) s", text, re.M)}
    header = (f"# gradcheck and its peers\n\nRegenerate with `{command}` ({sum(took.values()) / 60:.1f} minutes for "
              "the sections below on a shared 2-core machine; `--only SECTION` reruns one). Every checker runs in "
              "the same process on the same problems; ReLU networks. Read the ratios: timings move by some 10% "
              "between runs.\n")
    body = "".join(f"\n## {SECTIONS[name][0]}\n\n{kept[name]}" for name in SECTIONS if name in kept)
    path.write_text(header + body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), metavar="SECTION",
                        help=f"run these sections only ({', '.join(SECTIONS)}); the others stay as they are")
    parser.add_argument("--quick", action="store_true", help="two sizes, few cases: a smoke run, to RESULTS-quick.md")
    args = parser.parse_args()
    if args.quick:
        settings = Settings(dict(list(SIZES.items())[:2]), repeat=1, rotations=1, plants=3, cases=2, peer_cases=1, sample=200,
                            rounds=1)
    else:
        settings = Settings(SIZES, repeat=7, rotations=5, plants=12, cases=30, peer_cases=5, sample=2000, rounds=5)
    path = HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    command = "python bench/peers.py" + (" --quick" if args.quick else "")
    done: dict[str, str] = {}
    chosen = args.only or list(SECTIONS)
    for k, name in enumerate(chosen, start=1):
        progress(name, f"section {k}/{len(chosen)}")
        start = time.perf_counter()
        text = SECTIONS[name][1](settings)
        done[name] = f"{text.strip(chr(10))}\n\nSection took {time.perf_counter() - start:.0f} s.\n"
        write(path, done, command)
        progress(name, f"written to {path.name} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
