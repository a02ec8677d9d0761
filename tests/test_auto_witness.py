"""The default witness, "auto": the seed's equations judge every entry, finite differences along random
directions back every gradient, and JAX confirms every gradient the equations reject."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from gradcheck.adapters import load
from gradcheck.checks.common import judged_by
from gradcheck.checks.conventions import check_module

HW0 = pathlib.Path(__file__).parent.parent / "examples" / "dlsys_hw0"


def _results(path: pathlib.Path, witness: str | None = None):
    module, _ = load(str(path))
    if witness is None:
        return check_module(module)
    with judged_by(witness):
        return check_module(module)


def test_a_passing_check_the_closed_form_decides_never_imports_jax():
    code = ("import contextlib, io, sys\nfrom gradcheck.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    rc = main(['check', {str(HW0 / 'correct' / 'simple_ml.py')!r}])\n"
            "print(rc, 'jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"], out.stderr


def test_every_gradient_is_backed_by_finite_differences_and_every_entry_judged_by_the_closed_form():
    for result in _results(HW0 / "correct" / "simple_ml.py"):
        assert result.passed, result.render()
        witnesses = {c.witnesses[1] for c in result.comparisons}
        assert "JAX" not in witnesses
        steps = [c for c in result.comparisons if c.witnesses[0].endswith("(from one SGD step)")]
        directions = {(c.tensor.split("·")[0], c.problem) for c in result.comparisons
                      if c.witnesses[1] == "finite differences"}
        assert {(c.tensor, c.problem) for c in steps} <= directions
        assert all(c.witnesses[1] == "closed form" for c in steps)


def test_every_gradient_the_closed_form_rejects_is_confirmed_by_jax():
    (nn_epoch, *_) = _results(HW0 / "buggy" / "simple_ml.py")
    rejected = [(c.tensor, c.problem) for c in nn_epoch.failures if c.witnesses[1] == "closed form"]
    confirmed = [(c.tensor, c.problem) for c in nn_epoch.failures if c.witnesses[1] == "JAX"]
    assert rejected and sorted(rejected) == sorted(confirmed)
    # the same mistake is seen by the finite differences too
    assert {t for t, _ in rejected} <= {c.tensor.split("·")[0] for c in nn_epoch.failures
                                       if c.witnesses[1] == "finite differences"}


def test_jax_deciding_every_entry_is_one_option_away():
    steps = [c for result in _results(HW0 / "correct" / "simple_ml.py", "jax") for c in result.comparisons
             if c.witnesses[0].endswith("(from one SGD step)")]
    assert steps and {c.witnesses[1] for c in steps} == {"JAX"}
