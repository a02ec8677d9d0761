"""Public checks of user code, one module per calling convention courses use.

Each check generates seeded problems (``gradcheck.problems``), calls the user's
code through ``gradcheck.adapters``, compares every gradient with the JAX
oracle, and diagnoses failures (``gradcheck.diagnose``). The result is a
:class:`CheckResult` of :class:`~gradcheck.compare.Comparison` records.
"""

from gradcheck.checks.classifiers import check_linear_classifiers, check_two_layer_net
from gradcheck.checks.epochs import check_nn_epoch, check_softmax_loss, check_softmax_regression_epoch
from gradcheck.checks.functions import check_mlp_grads, check_two_layer_grads
from gradcheck.checks.generic import check_function, check_gradient
from gradcheck.checks.layers import check_layers
from gradcheck.checks.models import check_cnn, check_fc_net
from gradcheck.checks.modules import check_modules
from gradcheck.checks.needle import check_needle
from gradcheck.checks.result import CheckResult, GradientMismatch, Inconclusive

__all__ = [
    "CheckResult", "GradientMismatch", "Inconclusive", "check_cnn", "check_fc_net", "check_function", "check_gradient", "check_layers",
    "check_linear_classifiers",
    "check_mlp_grads", "check_modules", "check_needle",
    "check_nn_epoch", "check_softmax_loss", "check_softmax_regression_epoch", "check_two_layer_grads",
    "check_two_layer_net",
]
