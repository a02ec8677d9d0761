"""Nothing unchecked behind an exit 0: what a file defines beyond the checks is named, and stubs are told apart."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import types

import pytest

from gradcheck import coverage

CORPUS = pathlib.Path(__file__).parent / "corpus"
EXTRA_LAYERS = '''

def conv_forward_naive(x, w, b, conv_param):
    out = None
    ###########################################################################
    # TODO: Implement the convolutional forward pass.                         #
    ###########################################################################
    pass
    return out, None


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    return dout * 2


class FullyConnectedNet:
    def loss(self, X, y=None):
        raise NotImplementedError
'''


def module_of(source: str, name: str = "student") -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = f"{name}.py"
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("source, stub", [
    ("def f(x):\n    pass\n", True),
    # CS231n's starter forwards: out = None, the cache packed from the inputs, return out, cache
    ("def f(x, w, b, conv_param):\n    out = None\n    pass\n    cache = (x, w, b, conv_param)\n    return out, cache\n", True),
    ("def f(dout, cache):\n    dx, x = None, cache\n    pass\n    return dx\n", True),
    ("def f(x, w):\n    out = x\n    cache = (x, w)\n    return out, cache\n", False),
    ("def f(x, w):\n    out = x.dot(w)\n    return out, (x, w)\n", False),
    ("def f(x):\n    '''TODO'''\n    return None\n", True),
    ("def f(x):\n    raise NotImplementedError('question 3')\n", True),
    ("def f(dout, cache):\n    dx, dw = None, None\n    pass\n    return dx, dw\n", True),
    ("def f(x):\n    ...\n", True),
    ("def f(x):\n    return x\n", False),
    ("def f(x):\n    dx = None\n    dx = 2 * x\n    return dx\n", False),
    ("def f(x):\n    if x:\n        raise NotImplementedError\n    return 1\n", False),
])
def test_a_stub_is_told_from_an_implementation_by_its_source(tmp_path, source, stub):
    path = tmp_path / "student_stub.py"
    path.write_text(source)
    from gradcheck.adapters import load

    module, _ = load(str(path))
    assert coverage.is_stub(module.f) is stub


def test_the_functions_no_check_covers_are_listed_by_name_with_the_stubs_marked(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text((CORPUS / "cs231n_layers_correct.py").read_text() + EXTRA_LAYERS)
    out = subprocess.run([sys.executable, "-m", "gradcheck", "check", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert ("not checked: FullyConnectedNet (not implemented), conv_forward_naive (not implemented), max_pool_backward_naive"
            " — no gradcheck check covers them, so the exit status says nothing about them") in out.stdout


def test_checking_one_function_lists_nothing_else(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text((CORPUS / "two_layer_grads_correct_relu.py").read_text() + "\n\ndef helper(x):\n    return x\n")
    whole = subprocess.run([sys.executable, "-m", "gradcheck", "check", str(path)], capture_output=True, text=True)
    assert "not checked: helper" in whole.stdout
    one = subprocess.run([sys.executable, "-m", "gradcheck", "check", f"{path}:two_layer_grads"],
                         capture_output=True, text=True)
    assert one.returncode == 0 and "not checked" not in one.stdout


def test_each_convention_covers_exactly_what_its_check_calls():
    names = {"affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss", "svm_loss",
             "batchnorm_forward", "conv_backward_naive", "layer_helper", "Linear", "ReLU", "Dropout"}
    # a backward without its forward cannot be run: nothing makes its cache
    assert coverage.covered("layers", names) == {"affine_forward", "affine_backward", "relu_forward",
                                                 "relu_backward", "softmax_loss", "svm_loss", "batchnorm_forward"}
    assert coverage.covered("modules", names) == {"Linear", "ReLU"}
    assert coverage.covered("nn_epoch", {"nn_epoch", "softmax_loss"}) == {"nn_epoch"}


def test_imported_names_are_not_the_files_own():
    module = module_of("import numpy as np\nfrom math import sqrt\n\ndef mine(x):\n    return sqrt(x)\n")
    assert set(coverage.defined(module)) == {"mine"}


def test_a_class_with_only_a_real_constructor_is_not_called_a_stub(tmp_path):
    from gradcheck.adapters import load

    path = tmp_path / "solver.py"
    path.write_text("class Solver:\n    def __init__(self, lr):\n        self.lr = lr\n\n\n"
                    "class Net:\n    def __init__(self):\n        self.w = 0\n\n    def loss(self, X):\n        pass\n")
    module, _ = load(str(path))
    assert not coverage.is_stub(module.Solver) and coverage.is_stub(module.Net)
