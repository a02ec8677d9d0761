"""gradcheck: prove manual backprop correct with three witnesses that must agree.

The closed-form equations of the seed (``reference_mlp``), finite differences
(``gradcheck.finite_diff``) and JAX autodiff in float64 (``gradcheck.oracle``)
each give every gradient; ``gradcheck.compare`` judges two of them and
``gradcheck.report`` renders the verdict. ``gradcheck.verify`` judges your
gradients of a known network by all three at once, ``gradcheck.checks`` points
them at user code, ``gradcheck.testing`` turns that into assertions.

Importing this package is cheap: names load on first use, and JAX only when
the oracle is first asked for a gradient.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Agreement": "gradcheck.witnesses", "Problem": "gradcheck.witnesses", "agree": "gradcheck.witnesses",
    "make_problem": "gradcheck.witnesses",
    "Comparison": "gradcheck.compare", "Entry": "gradcheck.compare", "TOLERANCES": "gradcheck.compare",
    "Tolerance": "gradcheck.compare", "Verdict": "gradcheck.compare",
    "tolerance_for": "gradcheck.compare", "tolerances": "gradcheck.compare",
    "Equation": "gradcheck.equations",
    "Directional": "gradcheck.finite_diff", "Estimate": "gradcheck.finite_diff", "directional": "gradcheck.finite_diff",
    "gradient": "gradcheck.finite_diff",
    "render": "gradcheck.report", "summary": "gradcheck.report",
    "Verification": "gradcheck.verification", "verify": "gradcheck.verification",
    "CheckResult": "gradcheck.checks", "GradientMismatch": "gradcheck.checks", "Inconclusive": "gradcheck.checks",
    "InvalidArgument": "reference_mlp.validation",
}
__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
