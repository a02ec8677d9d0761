"""Which check fits which code: conventions by name, and detection from what a module defines."""

from __future__ import annotations

import inspect
import os
import types
from typing import Any, Callable, Sequence

import numpy as np

from gradcheck.checks import classifiers, layers, models, needle
from gradcheck.checks.epochs import check_nn_epoch, check_softmax_loss, check_softmax_regression_epoch
from gradcheck.checks.functions import check_mlp_grads, check_two_layer_grads
from gradcheck.checks.layers import check_layers
from gradcheck.checks.modules import check_modules
from gradcheck.checks.result import RERUN, CheckResult
from reference_mlp.validation import InvalidArgument


def _function(name: str) -> Callable[[Any], bool]:
    return lambda module: callable(getattr(module, name, None))


def _tensors(module: Any, name: str) -> Callable:
    """``module.name``, or for hw1's apps/simple_ml.py (written with needle Tensors) hw0's form of it."""
    calls = needle.flavoured(module)
    fn = getattr(module, name)
    if calls is None:
        return fn
    own = getattr(fn, "__name__", name)  # its name in the file (the sandbox's functions carry it too)
    return needle.epoch_adapter(own, calls) if name == "nn_epoch" else needle.loss_adapter(own, calls)


def _own(module: Any, present: Callable[[Any], bool]) -> Any:
    """What ``module`` defines itself when that is enough for the check: layer_utils.py's sandwiches, not the layers it imports."""
    from gradcheck.coverage import defined

    own = defined(module)
    return own if present(own) else module


# Each convention: how to recognise it in a module, and how to check it there.
CONVENTIONS: dict[str, tuple[Callable[[Any], bool], Callable[..., CheckResult]]] = {
    "two_layer_grads": (_function("two_layer_grads"),
                        lambda m, o: check_two_layer_grads(m.two_layer_grads, activation=o["activation"][0], seed=o["seed"],
                                                          dtype=o["dtype"], require_stability=o["require_stability"])),
    "mlp_grads": (_function("mlp_grads"), lambda m, o: check_mlp_grads(m.mlp_grads, seed=o["seed"], dtype=o["dtype"], activations=o["activations"],
                                                      require_stability=o["require_stability"])),
    "nn_epoch": (_function("nn_epoch"),
                 lambda m, o: check_nn_epoch(_tensors(m, "nn_epoch"), lr=o["lr"], batch=o["batch"], activation=o["activation"][0],
                                            seed=o["seed"], dtype=o["dtype"], require_stability=o["require_stability"])),
    "softmax_regression_epoch": (_function("softmax_regression_epoch"),
                                 lambda m, o: check_softmax_regression_epoch(m.softmax_regression_epoch, lr=o["lr"],
                                                                             batch=o["batch"], seed=o["seed"],
                                                                             dtype=o["dtype"],
                                                                             require_stability=o["require_stability"])),
    "softmax_loss": (lambda m: _function("softmax_loss")(m) and not layers.present(m),
                     lambda m, o: check_softmax_loss(_tensors(m, "softmax_loss"), seed=o["seed"], require_stability=o["require_stability"])),
    "layers": (layers.present, lambda m, o: check_layers(_own(m, layers.present), activations=o["activations"], seed=o["seed"],
                                                         require_stability=o["require_stability"])),
    "modules": (lambda m: inspect.isclass(getattr(m, "Linear", None)), lambda m, o: check_modules(m, seed=o["seed"], require_stability=o["require_stability"])),
    "linear_classifiers": (classifiers.present, lambda m, o: classifiers.check_linear_classifiers(
        m, seed=o["seed"], require_stability=o["require_stability"])),
    "two_layer_net": (classifiers.net_present, lambda m, o: classifiers.check_two_layer_net(
        m, seed=o["seed"], require_stability=o["require_stability"])),
    "fc_net": (models.present, lambda m, o: models.check_fc_net(m, seed=o["seed"], require_stability=o["require_stability"])),
    "needle": (needle.present, lambda m, o: needle.check_needle(m, seed=o["seed"], require_stability=o["require_stability"])),
    "cnn": (models.cnn_present, lambda m, o: models.check_cnn(m, seed=o["seed"], require_stability=o["require_stability"])),
}
NAMES = tuple(CONVENTIONS)


def detect(module: Any) -> tuple[str, ...]:
    """The conventions whose names ``module`` defines, in a fixed order.

    What a module defines itself decides: a ``cnn.py`` that imports every
    layer of ``layers.py`` is checked as a model, not as those layers again.
    Only a module that defines none of them itself (one that re-exports) is
    judged on what it imports.
    """
    from gradcheck.coverage import defined

    own = types.SimpleNamespace(**defined(module))
    return (tuple(name for name, (present, _) in CONVENTIONS.items() if present(own))
            or tuple(name for name, (present, _) in CONVENTIONS.items() if present(module)))


def _file_name(module: object) -> str:
    """How to name user code to its author: its file (``hw.py``), else its name."""
    path = getattr(module, "__file__", None)
    return os.path.basename(path) if path else str(getattr(module, "__name__", "the code"))


def check_module(
    module: Any,
    conventions: tuple[str, ...] | None = None,
    *,
    activation: str | Sequence[str] | None = None,
    seed: int = 0,
    lr: float = 0.1,
    batch: int = 16,
    dtype: str = "float64",
    require_stability: bool = False,
) -> list[CheckResult]:
    """Run the check of every convention found in ``module`` (or of those named).

    ``activation`` names the hidden σ the code supports: the one σ of
    functions that take none (``two_layer_grads``, ``nn_epoch``; default
    relu), and the activations ``mlp_grads`` is checked for (default: all,
    so one it rejects fails); ``dtype`` ("float64" or "float32") is
    the type of the inputs fed to gradient and epoch functions;
    ``require_stability`` makes NaN or infinity on large logits a failure
    rather than a warning.
    """
    chosen = conventions or detect(module)
    unknown = [c for c in chosen if c not in CONVENTIONS]
    if unknown:
        raise InvalidArgument(f"unknown convention {unknown[0]!r}; known conventions: {', '.join(NAMES)}.")
    if not chosen and str(getattr(module, "__name__", "")).startswith("needle."):
        raise InvalidArgument(f"{module.__name__} is one module of a needle package: give the checkout's folder "
                              f"(its root, python/ or python/needle/) to check every op and the engine.")
    if not chosen:
        raise InvalidArgument(
            f"{_file_name(module)} defines none of the functions gradcheck knows how to check "
            f"(two_layer_grads, mlp_grads, nn_epoch, softmax_regression_epoch, softmax_loss, affine_forward/"
            f"affine_backward, class Linear, svm_loss_*/softmax_loss_*, class TwoLayerNet, class FullyConnectedNet, class ThreeLayerConvNet, a needle package). Name the convention and the function, e.g. --convention two_layer_grads."
        )
    if str(dtype) not in ("float64", "float32"):
        raise InvalidArgument(f"dtype must be 'float64' or 'float32'; got {dtype!r}.")
    declared = None if activation is None else ((activation,) if isinstance(activation, str) else tuple(activation))
    options = {"activation": declared or ("relu",), "activations": declared, "seed": seed, "lr": lr, "batch": batch, "dtype": np.dtype(str(dtype)),
               "require_stability": bool(require_stability)}
    return [_settled(name, module, options) for name in chosen]


REDRAWS = 2  # a check that could not judge enough is drawn anew this many times before it says so
REDRAW_STRIDE = 100_003  # derived seeds far from the user's next ones (seed + 1 is the next trial)


def _settled(name: str, module: Any, options: dict) -> CheckResult:
    """Run one convention's check, re-drawing its problems on derived seeds while it is inconclusive.

    The result names the seed it was drawn with, so it replays as it was.
    """
    result = CONVENTIONS[name][1](module, options)
    for attempt in range(1, REDRAWS + 1):
        if not result.inconclusive or result.advice != RERUN:  # what no other draw can settle (an unbuilt extension)
            break
        result = CONVENTIONS[name][1](module, {**options, "seed": options["seed"] + REDRAW_STRIDE * attempt})
    return result
