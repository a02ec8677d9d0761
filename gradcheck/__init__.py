"""gradcheck: prove manual backprop correct with three witnesses that must agree.

The closed-form equations of the seed (``reference_mlp``), finite differences
(``gradcheck.finite_diff``) and JAX autodiff in float64 (``gradcheck.oracle``)
each give every gradient; ``gradcheck.compare`` judges two of them and
``gradcheck.report`` renders the verdict. Importing this package does not
import JAX: the oracle loads it on first use.
"""

from gradcheck.compare import TOLERANCES, Comparison, Entry, Tolerance, Verdict, compare, tolerance_for
from gradcheck.equations import Equation
from gradcheck.finite_diff import Directional, Estimate, directional, gradient
from gradcheck.report import render, summary
from gradcheck.witnesses import Agreement, Problem, agree, make_problem
from reference_mlp.validation import InvalidArgument

__all__ = [
    "Agreement", "Comparison", "Directional", "Entry", "Equation", "Estimate", "InvalidArgument", "Problem",
    "TOLERANCES", "Tolerance", "Verdict", "agree", "compare", "directional", "gradient", "make_problem",
    "render", "summary", "tolerance_for",
]
__version__ = "0.1.0"
