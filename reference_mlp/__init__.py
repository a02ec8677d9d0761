"""The seed's network in plain numpy: forward pass, manual backprop, SGD, ReLU splines.

The submodules are the chapters: ``activations``, ``loss``, ``mlp`` (Eqs. 10–15),
``train`` (SGD), ``data`` (spirals) and ``spline`` (Eq. 7).

Every formula cites its equation by its number in docs/equations.md.
"""

from reference_mlp import activations
from reference_mlp.activations import Activation
from reference_mlp.data import spirals
from reference_mlp.loss import softmax, softmax_cross_entropy
from reference_mlp.mlp import (
    Architecture,
    Cache,
    Gradients,
    Params,
    backward,
    forward,
    gradients,
    init_params,
    two_layer_gradients,
)
from reference_mlp.spline import ReluSpline, max_error, relu_spline
from reference_mlp.train import History, sgd_epoch, sgd_step
from reference_mlp.validation import InvalidArgument

__all__ = [
    "Activation", "Architecture", "Cache", "Gradients", "History", "InvalidArgument", "Params", "ReluSpline",
    "activations", "backward", "forward", "gradients", "init_params", "max_error", "relu_spline",
    "sgd_epoch", "sgd_step", "softmax", "softmax_cross_entropy", "spirals", "two_layer_gradients",
]
