"""Assertions for test suites: each runs a check and raises :class:`GradientMismatch` with the report.

    from gradcheck.testing import assert_two_layer_grads

    def test_my_backprop():
        assert_two_layer_grads(two_layer_grads, activation="sigmoid")

The first line of the message is the summary; the rest names the equation,
the tensor, the worst entries and the probable cause. Under pytest with the
gradcheck plugin the same assertions are also counted in the terminal summary
and the JSON report, and take their seed, trials, tolerance and witness from
the command line, ini file or ``@pytest.mark.gradcheck`` (the ``gradcheck``
fixture applies them).
"""

from __future__ import annotations

from typing import Any, Callable

from gradcheck.checks import (
    CheckResult,
    GradientMismatch,
    check_cnn,
    check_fc_net,
    check_function,
    check_gradient,
    check_layers,
    check_linear_classifiers,
    check_mlp_grads,
    check_modules,
    check_needle,
    check_nn_epoch,
    check_softmax_loss,
    check_softmax_regression_epoch,
    check_two_layer_grads,
    check_two_layer_net,
)
from gradcheck import recorder
from gradcheck.checks.result import Inconclusive
from gradcheck.compare import Verdict
from gradcheck.checks.common import accepts, judged_by
from gradcheck.checks.conventions import check_module
from gradcheck.compare import tolerances
from reference_mlp.validation import InvalidArgument

__all__ = [
    "GradientMismatch", "Inconclusive", "assert_cnn", "assert_fc_net", "assert_function", "assert_gradient", "assert_layers", "assert_linear_classifiers", "assert_mlp_grads",
    "assert_module", "assert_modules", "assert_needle", "assert_nn_epoch", "assert_softmax_loss", "assert_softmax_regression_epoch",
    "assert_two_layer_grads", "assert_two_layer_net",
]

def run(check: Callable[..., Any], *args: Any, seed: int = 0, trials: int = 1, rtol: float | None = None,
        witness: str = "auto", require_stability: bool = False, **options: Any) -> CheckResult | list[CheckResult]:
    """Run ``check`` for seeds ``seed … seed + trials − 1`` and raise on the first failure."""
    __tracebackhide__ = True
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise InvalidArgument(f"trials must be an integer ≥ 1; got {trials!r}.")
    if not isinstance(require_stability, bool):
        raise InvalidArgument(f"require_stability must be True or False; got {require_stability!r}.")
    if accepts(check, "require_stability"):  # checks with no softmax (check_function) have nothing to require
        options["require_stability"] = require_stability
    outcomes = []
    with tolerances(rtol=rtol), judged_by(witness):
        for trial in range(trials):
            outcome = check(*args, seed=seed + trial, **options)
            results = outcome if isinstance(outcome, list) else [outcome]
            for result in results:
                recorder.record(result)  # counted by the pytest plugin, when it runs
            failed = [r for r in results if r.verdict is Verdict.FAIL]
            if failed:
                raise GradientMismatch("\n\n".join(r.render() for r in failed))
            undecided = [r for r in results if r.inconclusive]
            if undecided:
                raise Inconclusive(f"gradcheck could not judge {', '.join(r.target for r in undecided)} "
                                   f"with seed {seed + trial}; {undecided[0].advice}.\n\n"
                                   + "\n\n".join(r.render() for r in undecided))
            outcomes.append(outcome)
    return outcomes[0]


def _assertion(check: Callable[..., Any], name: str, what: str) -> Callable[..., Any]:
    def assertion(*args: Any, seed: int = 0, trials: int = 1, rtol: float | None = None, witness: str = "auto",
                  require_stability: bool = False, **options: Any) -> Any:
        __tracebackhide__ = True
        return run(check, *args, seed=seed, trials=trials, rtol=rtol, witness=witness,
                   require_stability=require_stability, **options)

    assertion.__name__ = assertion.__qualname__ = name
    assertion.__doc__ = (
        f"Assert that {what} is right; raise GradientMismatch with the report otherwise.\n\n"
        f"Takes the arguments of ``{check.__module__}.{check.__name__}`` plus ``seed``, ``trials`` (how many seeds), "
        f"``rtol`` (overrides the dtype's tolerance), ``witness`` (``\"auto\"``, ``\"jax\"`` or ``\"closed-form\"``) and "
        f"``require_stability`` (NaN or infinity on large logits fails instead of warning). "
        f"Returns the CheckResult."
    )
    return assertion


assert_two_layer_grads = _assertion(check_two_layer_grads, "assert_two_layer_grads", "two_layer_grads(X, y, W1, W2)")
assert_mlp_grads = _assertion(check_mlp_grads, "assert_mlp_grads", "mlp_grads(X, y, Ws, activation=…)")
assert_nn_epoch = _assertion(check_nn_epoch, "assert_nn_epoch", "nn_epoch(X, y, W1, W2, lr, batch)")
assert_softmax_regression_epoch = _assertion(check_softmax_regression_epoch, "assert_softmax_regression_epoch",
                                             "softmax_regression_epoch(X, y, theta, lr, batch)")
assert_softmax_loss = _assertion(check_softmax_loss, "assert_softmax_loss", "softmax_loss(Z, y)")
assert_layers = _assertion(check_layers, "assert_layers", "every CS231n layer function (assignments 2 and 3) and their composition")
assert_linear_classifiers = _assertion(check_linear_classifiers, "assert_linear_classifiers",
                                       "every CS231n assignment-1 classifier loss (svm_loss_*, softmax_loss_*)")
assert_two_layer_net = _assertion(check_two_layer_net, "assert_two_layer_net", "CS231n assignment 1's TwoLayerNet.loss")
assert_fc_net = _assertion(check_fc_net, "assert_fc_net", "CS231n assignment 2's FullyConnectedNet.loss")
assert_cnn = _assertion(check_cnn, "assert_cnn", "CS231n assignment 2's ThreeLayerConvNet.loss")
assert_needle = _assertion(check_needle, "assert_needle", "every op and the engine of a DLSys hw1 needle package")
assert_modules = _assertion(check_modules, "assert_modules", "every layer object and their composition")
assert_function = _assertion(check_function, "assert_function", "a backward pass, against its own forward")
assert_gradient = _assertion(check_gradient, "assert_gradient", "a claimed gradient of a scalar loss, known as a black box")
assert_module = _assertion(check_module, "assert_module", "every convention a module defines")
