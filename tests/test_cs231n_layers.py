"""CS231n assignment 2's layers.py: every function gets its own verdict, and each mistake fails where it is made.

The correct file in tests/cs231n_a2 implements every function of the handout; each mistake of
tests/cs231n_a2/mistakes.py replaces one function. A set of mistakes, one per function, is checked in one
file: the functions each one breaks fail (with the mistake's name where it is catalogued), and every
other function still passes.
"""

from __future__ import annotations

import pathlib
import sys
import types

import numpy as np
import pytest

from gradcheck import coverage
from gradcheck.checks import cs231n
from gradcheck.checks.conventions import check_module, detect
from gradcheck.checks.layers import check_layers, covers
from gradcheck.compare import Verdict

HERE = pathlib.Path(__file__).parent / "cs231n_a2"
sys.path.insert(0, str(HERE))
import checkout  # noqa: E402
from mistakes import FIRST, RNN_FIRST, RNN_SECOND, SANDWICH_FIRST, SANDWICH_SECOND, SECOND  # noqa: E402

CORRECT = (HERE / "layers.py").read_text()
RNN_CORRECT = (HERE / "rnn_layers.py").read_text()
A3 = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward", "word_embedding_forward",
      "word_embedding_backward", "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss",
      "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward")
A2 = ("affine_forward", "affine_backward", "relu_forward", "relu_backward", "batchnorm_forward", "batchnorm_backward",
      "batchnorm_backward_alt", "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
      "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
      "spatial_batchnorm_forward", "spatial_batchnorm_backward", "spatial_groupnorm_forward",
      "spatial_groupnorm_backward", "svm_loss", "softmax_loss")


def module_of(source: str, name: str = "layers") -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(HERE / f"{name}.py")
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def correct():
    return check_layers(module_of(CORRECT))


def test_the_complete_correct_file_passes_with_one_verdict_per_function(correct):
    assert correct.passed, correct.render()
    verdicts = {name: verdict for name, verdict, _ in correct.functions()}
    assert set(A2) <= set(verdicts) and set(verdicts) - set(A2) == {"relu_network"}
    assert set(verdicts.values()) == {Verdict.PASS}
    assert "  per function:" in correct.render()


def test_every_backward_meets_both_witnesses(correct):
    for name in A2:
        if "backward" in name:
            witnesses = {c.witnesses[1] for c in correct.comparisons if c.tensor.split(" ")[0] == name}
            assert witnesses == {"JAX (float64)", "finite differences of your forward"} or name.startswith(
                ("affine", "relu")) and "finite differences of your forward" in witnesses, (name, witnesses)


def test_large_inputs_are_differenced_along_directions_small_ones_entry_by_entry(correct):
    conv_dx = [c for c in correct.comparisons if c.tensor.startswith("conv_backward_naive dx·v")]
    conv_db = [c for c in correct.comparisons if c.tensor == "conv_backward_naive db" and "finite" in c.witnesses[1]]
    assert conv_dx and conv_db and all(c.expected_shape == () for c in conv_dx)


def test_the_file_is_detected_as_layers_and_nothing_it_defines_goes_unchecked():
    module = module_of(CORRECT)
    assert detect(module) == ("layers",)
    assert coverage.of(module, ("layers",)).unchecked == ()
    assert covers(A2) == set(A2)


def _part(mistakes: dict, backward: bool) -> dict:
    """The mistakes in backwards, or those elsewhere: a forward that raises leaves its backward nothing to run."""
    return {k: m for k, m in mistakes.items() if ("backward" in m.function) == backward}


LAYER_UTILS = (HERE / "layer_utils.py").read_text()
SANDWICHES = ("affine_relu_forward", "affine_relu_backward", "affine_bn_relu_forward", "affine_bn_relu_backward",
              "conv_relu_forward", "conv_relu_backward", "conv_relu_pool_forward", "conv_relu_pool_backward")


def _sandwiches(source: str = LAYER_UTILS):
    """layer_utils.py as the handout has it: the sandwiches, on the layers it imports."""
    (result,) = check_module(module_of(source, "layer_utils"))
    return result


def test_the_sandwiches_of_layer_utils_are_checked_and_not_the_layers_they_import():
    result = _sandwiches()
    verdicts = {name: verdict for name, verdict, _ in result.functions()}
    assert result.passed, result.render()
    assert set(verdicts) == set(SANDWICHES) and set(verdicts.values()) == {Verdict.PASS}


def test_there_are_two_mistakes_for_every_sandwich():
    assert sorted(m.function for m in SANDWICH_FIRST.values()) == sorted(SANDWICHES)
    assert sorted(m.function for m in SANDWICH_SECOND.values()) == sorted(SANDWICHES)


@pytest.mark.parametrize("mistakes", [_part(SANDWICH_FIRST, False), _part(SANDWICH_FIRST, True),
                                       _part(SANDWICH_SECOND, False), _part(SANDWICH_SECOND, True)],
                         ids=["first, forwards", "first, backwards", "second, forwards", "second, backwards"])
def test_each_sandwich_mistake_fails_the_functions_it_breaks_and_no_other(mistakes):
    result = _sandwiches(LAYER_UTILS + "".join(m.source for m in mistakes.values()))
    broken = {f for m in mistakes.values() for f in (m.function, *m.also)}
    verdicts = {name: verdict for name, verdict, _ in result.functions()}
    assert {name for name, verdict in verdicts.items() if verdict is Verdict.FAIL} == broken, result.render()
    for label, mistake in mistakes.items():
        if mistake.bug is not None:
            assert mistake.bug in {c.bug for c in result.failures if c.tensor.split(" ")[0] == mistake.function}, label


def test_a_bias_before_batchnorm_is_judged_against_zero_and_a_small_error_still_fails():
    # its true gradient is 0 (batchnorm removes its mean): rounding passes, as above; 1e-6 does not
    off = LAYER_UTILS.replace("    return dx, dw, db, dgamma, dbeta\n", "    return dx, dw, db + 1e-6, dgamma, dbeta\n")
    assert off != LAYER_UTILS
    result = _sandwiches(off)
    assert {c.tensor for c in result.failures} == {"affine_bn_relu_backward db"}, result.render()
    assert {c.witnesses[1] for c in result.failures} == {"JAX (float64)", "finite differences of your forward"}


def _with(mistakes: dict) -> types.ModuleType:
    return module_of(CORRECT + "".join(m.source for m in mistakes.values()))


def test_there_are_two_mistakes_for_every_function_of_the_handout():
    assert sorted(m.function for m in FIRST.values()) == sorted(A2) == sorted(m.function for m in SECOND.values())


@pytest.mark.parametrize("mistakes", [_part(FIRST, False), _part(FIRST, True), _part(SECOND, False), _part(SECOND, True)],
                         ids=["first, forwards", "first, backwards", "second, forwards", "second, backwards"])
def test_each_mistake_fails_the_functions_it_breaks_and_no_other(mistakes):
    result = check_layers(_with(mistakes))
    broken = {f for m in mistakes.values() for f in (m.function, *m.also)}
    verdicts = {name: verdict for name, verdict, _ in result.functions()}
    failing = {name for name, verdict in verdicts.items() if verdict is Verdict.FAIL}
    assert failing == broken, result.render()
    # a backward whose forward gave nothing is not judged at all: not a pass, not a failure of its own
    assert all(verdicts[name] is Verdict.PASS for name in verdicts if name not in broken
               and not (name.endswith(("backward", "backward_naive")) and verdicts[name] is Verdict.INCONCLUSIVE))
    for label, mistake in mistakes.items():
        bugs = {c.bug for c in result.failures if c.tensor.split(" ")[0] == mistake.function}
        if mistake.bug is not None:
            assert mistake.bug in bugs, (label, bugs)
        else:
            assert not bugs - {None}, (label, bugs)  # nothing catalogued fits: the cause stays unknown


def test_a_numpy_1_name_is_reported_as_what_it_is_with_its_replacement():
    module = module_of(CORRECT + '''
_affine_forward = affine_forward


def affine_forward(x, w, b):
    D = np.product(x.shape[1:])  # NumPy 1's name for np.prod
    return _affine_forward(x.reshape(x.shape[0], D), w, b)
''')
    result = check_layers({name: getattr(module, name) for name in ("affine_forward", "affine_backward")})
    notes = {c.note for c in result.failures if c.tensor == "affine_forward out"}
    assert notes and all("np.product is a NumPy 1 name" in n and "use np.prod at layers.py:" in n for n in notes), notes


@pytest.mark.parametrize("line, said", [
    ("dx = np.reshape(dx, newshape=x.shape)", "NumPy 1's keyword"),
    ("int(np.array([[1]]))", "index the entry (a[0]) or use a.item()"),
], ids=["newshape=", "int of a one-entry array"])
def test_numpy_1_code_that_numpy_2_refuses_is_reported_as_that(line, said):
    module = module_of(CORRECT + f"""
_affine_backward = affine_backward


def affine_backward(dout, cache):
    x = cache[0]
    dx, dw, db = _affine_backward(dout, cache)
    {line}
    return dx, dw, db
""")
    result = check_layers({name: getattr(module, name) for name in ("affine_forward", "affine_backward")})
    notes = {c.note for c in result.failures if c.tensor.startswith("affine_backward")}
    assert notes and all(said in n for n in notes), notes


def test_python_2_division_is_reported_as_what_it_is():
    result = check_layers(_with({"py2": FIRST["Python 2 division in the output size"]}))
    (record, *_) = [c for c in result.failures if c.tensor == "conv_forward_naive out"]
    assert "TypeError" in record.note and "use" not in record.note.split("TypeError")[0]
    assert "// " in record.note or "//" in record.note


@pytest.mark.parametrize("docstring, meaning", [
    ("p: Dropout parameter. We keep each neuron output with probability p.", "keep"),
    ("p: Dropout parameter. We drop each neuron output with probability p.", "drop"),
    ("p: Dropout parameter.", None),
])
def test_dropout_reads_p_from_its_docstring_or_else_from_what_it_does(docstring, meaning):
    keeps = meaning != "drop"
    source = CORRECT + f'''
def dropout_forward(x, dropout_param):
    """{docstring}"""
    p, mode = dropout_param["p"], dropout_param["mode"]
    np.random.seed(dropout_param["seed"])
    mask = None
    out = x
    if mode == "train":
        mask = (np.random.rand(*x.shape) {"<" if keeps else ">="} p) / {"p" if keeps else "(1 - p)"}
        out = x * mask
    return out, (dropout_param, mask)
'''
    result = check_layers(module_of(source))
    assert result.passed, result.render()
    problems = {c.problem for c in result.comparisons if c.tensor.startswith("dropout_forward")}
    said = "from your docstring" if meaning else "from what your code does"
    assert all(f"p read as the probability to {'keep' if keeps else 'drop'} a unit, {said}" in p for p in problems)


def test_an_unseeded_dropout_mask_fails_because_nothing_can_replay_it():
    source = CORRECT.replace('    if "seed" in dropout_param:\n        np.random.seed(dropout_param["seed"])\n', "")
    result = check_layers(module_of(source))
    assert any("np.random.seed(dropout_param['seed'])" in (c.note or "") for c in result.failures)


def test_groupnorm_gamma_is_c_when_the_forward_takes_only_that():
    with_c = CORRECT.replace("of shape (1, C, 1, 1)", "of shape (C,)").replace(
        "    out = gamma * x_hat + beta\n    return out, (x_hat, gamma, std, G)",
        "    out = gamma[None, :, None, None] * x_hat + beta[None, :, None, None]\n    return out, (x_hat, gamma, std, G)").replace(
        "    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)\n    dgamma = np.sum(dout * x_hat, axis=(0, 2, 3), keepdims=True)\n"
        "    dx_hat = (dout * gamma).reshape(N, G, -1)",
        "    dbeta = dout.sum(axis=(0, 2, 3))\n    dgamma = np.sum(dout * x_hat, axis=(0, 2, 3))\n"
        "    dx_hat = (dout * gamma[None, :, None, None]).reshape(N, G, -1)")
    assert with_c != CORRECT
    result = check_layers(module_of(with_c))
    assert result.passed, result.render()
    shapes = {c.expected_shape for c in result.comparisons if c.tensor == "spatial_groupnorm_backward dgamma"}
    assert shapes == {(4,), (6,)}
    assert all("your forward takes gamma as (C,)" in c.problem for c in result.comparisons
               if c.tensor.startswith("spatial_groupnorm"))


def test_a_handout_stub_is_left_alone_and_listed_as_not_implemented(tmp_path):
    stub = '''
def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    ###########################################################################
    # TODO: Implement the convolutional backward pass.                        #
    ###########################################################################
    pass
    return dx, dw, db
'''
    path = tmp_path / "stub_layers.py"  # a stub is told by its source, so the source must be a file
    path.write_text(CORRECT + stub)
    from gradcheck.adapters import load

    module, _ = load(str(path))
    result = check_layers(module)
    assert result.passed and not any(c.tensor.startswith("conv_backward_naive") for c in result.comparisons)
    assert coverage.of(module, ("layers",)).lines()[0].startswith("not checked: conv_backward_naive (not implemented)")


def test_a_layer_that_rounds_to_float32_is_judged_as_float32_and_a_wrong_one_still_fails():
    narrow = CORRECT.replace("def layernorm_forward(x, gamma, beta, ln_param):\n",
                             "def layernorm_forward(x, gamma, beta, ln_param):\n    x = x.astype(np.float32)\n")
    assert narrow != CORRECT
    result = check_layers(module_of(narrow))
    assert result.passed, result.render()
    assert "layernorm" in (result.precision or "")
    wrong = narrow + SECOND["layernorm backward without the mean terms"].source
    failing = {c.tensor.split(" ")[0] for c in check_layers(module_of(wrong)).failures}
    assert failing == {"layernorm_backward"}


def test_the_layers_are_drawn_clear_of_their_kinks():
    rng = np.random.default_rng(0)
    for case in cs231n.BY_NAME["max_pool"].draw(rng):
        (x,) = case.arrays
        assert len(np.unique(x)) == x.size and np.min(np.diff(np.sort(x.ravel()))) >= cs231n.MARGIN


def test_only_the_activations_a_file_defines_are_asked_for_unless_more_are_named(correct):
    assert correct.unsupported == ()
    asked = check_layers(module_of(CORRECT.split("def batchnorm_forward")[0]), activations=("relu", "tanh"))
    assert asked.unsupported == ("tanh: tanh_forward/tanh_backward not defined",)


def test_the_complete_correct_rnn_layers_pass_with_one_verdict_per_function():
    result = check_layers(module_of(RNN_CORRECT, "rnn_layers"))
    assert result.passed, result.render()
    verdicts = {name: verdict for name, verdict, _ in result.functions()}
    assert set(A3) <= set(verdicts) and set(verdicts.values()) == {Verdict.PASS}
    lstm = {c.tensor for c in result.comparisons if c.tensor.startswith("lstm_step_forward")}
    assert lstm == {"lstm_step_forward next_h", "lstm_step_forward next_c"}


def test_there_are_two_mistakes_for_every_rnn_function():
    assert sorted(m.function for m in RNN_FIRST.values()) == sorted(A3) == sorted(m.function for m in RNN_SECOND.values())


@pytest.mark.parametrize("mistakes", [_part(RNN_FIRST, False), _part(RNN_FIRST, True), _part(RNN_SECOND, False),
                                      _part(RNN_SECOND, True)],
                         ids=["first, forwards", "first, backwards", "second, forwards", "second, backwards"])
def test_each_rnn_mistake_fails_the_functions_it_breaks_and_no_other(mistakes):
    result = check_layers(module_of(RNN_CORRECT + "".join(m.source for m in mistakes.values()), "rnn_layers"))
    broken = {f for m in mistakes.values() for f in (m.function, *m.also)}
    verdicts = {name: verdict for name, verdict, _ in result.functions()}
    assert {name for name, verdict in verdicts.items() if verdict is Verdict.FAIL} == broken, result.render()
    for label, mistake in mistakes.items():
        alone = result
        if any(mistake.function in other.also for other in mistakes.values() if other is not mistake):
            # another mistake breaks this function too (rnn_backward calls a broken rnn_step_backward): name it alone
            alone = check_layers(module_of(RNN_CORRECT + mistake.source, "rnn_layers"))
        bugs = {c.bug for c in alone.failures if c.tensor.split(" ")[0] == mistake.function}
        assert (mistake.bug in bugs) if mistake.bug else not bugs - {None}, (label, bugs)


@pytest.mark.parametrize("seed", [3, 1_000_003, 987_654_321])
def test_the_correct_files_pass_on_problems_drawn_from_other_seeds(seed):
    for source, name in ((CORRECT, "layers"), (RNN_CORRECT, "rnn_layers")):
        result = check_layers(module_of(source, name), seed=seed)
        assert result.passed, result.render()


# fc_net.py: FullyConnectedNet(...).loss

FC_NET = (HERE / "fc_net.py").read_text()


def _fc(source: str):
    from gradcheck.checks.models import check_fc_net

    return check_fc_net(module_of(source, "fc_net"))


def test_a_correct_fully_connected_net_passes_plain_normalized_and_with_dropout():
    result = _fc(FC_NET)
    assert result.passed and result.unsupported == (), result.render()
    configs = {c.problem.split("), X")[0] for c in result.comparisons}
    assert {p.split("normalization=")[1] for p in configs} == {"none, keep=1", "batchnorm, keep=1", "layernorm, keep=1",
                                                               "none, keep=0.75"}
    # with dropout the net's own seeded mask is the only witness of its gradients: finite differences of its own loss
    dropout = [c for c in result.comparisons if "keep=0.75" in c.problem and c.tensor != "FullyConnectedNet scores"]
    assert dropout and {c.witnesses[1] for c in dropout} == {"finite differences of your loss"}


def test_a_net_that_skips_dropouts_backward_fails_only_with_dropout():
    broken = FC_NET.replace("                dh = dropout_backward(dh, drop)\n", "                pass\n")
    assert broken != FC_NET
    result = _fc(broken)
    failing = {c.problem.split("normalization=")[1].split("), X")[0] for c in result.failures}
    assert failing == {"none, keep=0.75"}, result.render()


def test_a_net_without_the_regularisation_gradient_fails_every_weight_and_no_bias():
    result = _fc(FC_NET.replace('            grads["W%d" % i] += self.reg * W\n', ""))
    assert {c.tensor for c in result.failures} == {"FullyConnectedNet W1", "FullyConnectedNet W2", "FullyConnectedNet W3"}
    # named where JAX judges (without dropout); with dropout the net's own differences give no truth to test against
    assert {c.bug for c in result.failures if "keep=1" in c.problem} == {"regularization_gradient_missing"}


def test_an_older_handouts_constructor_checks_what_it_can_express():
    older = FC_NET.replace("dropout_keep_ratio=1,\n                 normalization=None,", "dropout=0,\n                 use_batchnorm=False,")
    older = older.replace("        self.normalization = normalization\n        self.use_dropout = dropout_keep_ratio != 1\n",
                          "        self.normalization = 'batchnorm' if use_batchnorm else None\n        self.use_dropout = dropout > 0\n"
                          "        dropout_keep_ratio = 1 - dropout\n        normalization = self.normalization\n")
    assert older.count("use_batchnorm") == 2
    result = _fc(older)
    assert result.unsupported == ("layernorm: FullyConnectedNet takes no normalization='layernorm'",)
    assert not result.failures, result.render()


def test_a_bias_before_a_normalization_is_judged_against_zero_and_a_small_error_still_fails():
    # its true gradient is 0 (the normalization removes its mean): rounding passes, 1e-6 does not
    result = _fc(FC_NET.replace("        return loss, grads\n", '        grads["b1"] = grads["b1"] + 1e-6\n        return loss, grads\n'))
    failing = {c.problem.split("normalization=")[1].split(",")[0] for c in result.failures
               if c.tensor == "FullyConnectedNet b1" and c.witnesses[1] == "JAX (float64)"}
    assert {"batchnorm", "layernorm"} <= failing, result.render()
    assert {c.tensor for c in result.failures} == {"FullyConnectedNet b1"}


# cnn.py: ThreeLayerConvNet(...).loss

CNN = (HERE / "cnn.py").read_text()


def _cnn(source: str):
    module = module_of(source, "cnn")
    assert detect(module) == ("cnn",)  # the layers it imports are not checked again here
    (result,) = check_module(module)
    return result


def test_a_correct_three_layer_convnet_passes_against_jax_and_its_own_differences():
    result = _cnn(CNN)
    assert result.passed, result.render()
    checked = {c.tensor.split("·")[0]: set() for c in result.comparisons}
    for c in result.comparisons:
        checked[c.tensor.split("·")[0]].add(c.witnesses[1])
    params = {f"ThreeLayerConvNet {k}" for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
    assert set(checked) == {"ThreeLayerConvNet loss", "ThreeLayerConvNet scores"} | params
    assert all(checked[k] == {"JAX (float64)", "finite differences of your loss"} for k in params)
    # the filters (81 entries) are differenced along directions, the small biases entry by entry
    assert any(c.tensor == "ThreeLayerConvNet W1·v1" for c in result.comparisons)


@pytest.mark.parametrize("mistake, failing", [
    (('        grads["W1"] += self.reg * W1\n', ""), {"W1"}),
    (("        loss += 0.5 * self.reg *", "        loss += self.reg *"), {"loss", "W1", "W2", "W3"}),
    (('        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dout1, cache1)\n',
      '        _, grads["W1"], _ = conv_relu_pool_backward(dout1, cache1)\n'), {"b1"}),
], ids=["filters without the regularisation gradient", "loss with reg·ΣW², gradients with reg·W", "no b1 gradient"])
def test_each_convnet_mistake_fails_the_parameters_it_breaks_and_no_other(mistake, failing):
    source = CNN.replace(*mistake)
    assert source != CNN
    result = _cnn(source)
    assert {c.tensor.split("·")[0] for c in result.failures} == {f"ThreeLayerConvNet {k}" for k in failing}, result.render()
    if 'grads["W1"] += self.reg * W1' in mistake[0]:
        assert {c.bug for c in result.failures} == {"regularization_gradient_missing"}


def test_a_convnet_or_sandwich_whose_fast_layers_are_not_compiled_is_not_judged_and_no_seed_is_tried():
    missing = CNN.replace("    def loss(self, X, y=None):\n", "    def loss(self, X, y=None):\n        col2im_6d_cython\n")
    result = _cnn(missing)
    assert result.inconclusive and not result.failures, result.render()
    assert result.seed == 0 and "python setup.py build_ext --inplace" in result.advice  # not "re-run with another seed"
    # layer_utils.py's sandwiches on fast_layers: the backward needs col2im_6d_cython
    sandwiches = _sandwiches(LAYER_UTILS.replace("    conv_cache, relu_cache = cache\n",
                                                 "    conv_cache, relu_cache = cache\n    col2im_6d_cython\n"))
    table = {name: verdict for name, verdict, _ in sandwiches.functions()}
    assert table["conv_relu_backward"] is Verdict.INCONCLUSIVE and not sandwiches.failures, sandwiches.render()
    assert "build_ext --inplace" in sandwiches.advice


def test_a_checkouts_files_import_as_modules_of_their_package_and_each_checkout_is_its_own(tmp_path):
    from gradcheck.adapters import load

    good = checkout.build(tmp_path / "good")
    module, _ = load(str(good / "classifiers" / "cnn.py"))
    assert module.__name__ == "cs231n.classifiers.cnn"
    assert [r.passed for r in check_module(module)] == [True]
    # a second checkout of the same package name is imported afresh: its own broken layers are the ones run
    bad = checkout.build(tmp_path / "bad", CORRECT.replace("np.maximum(0, x)", "np.maximum(0.01 * x, x)"))
    assert CORRECT.count("np.maximum(0, x)") == 1
    module, _ = load(str(bad / "classifiers" / "cnn.py"))
    assert [r.passed for r in check_module(module)] == [False]


def test_a_file_that_imports_relative_to_a_package_it_is_not_in_gets_a_clear_error(tmp_path):
    from gradcheck.adapters import LoadError, load

    lone = tmp_path / "cnn.py"
    lone.write_text("from ..layer_utils import *\n")
    with pytest.raises(LoadError, match="imports relative to its package.*__init__.py"):
        load(str(lone))


def test_a_model_regularised_without_the_handouts_factor_half_fails_and_is_named():
    # assignment 2: "make sure that your L2 regularization includes a factor of 0.5", even when the gradient agrees
    fc = FC_NET.replace("loss += 0.5 * self.reg *", "loss += self.reg *").replace("+= self.reg * W\n", "+= 2 * self.reg * W\n")
    cnn = CNN.replace("loss += 0.5 * self.reg *", "loss += self.reg *").replace("+= self.reg * W", "+= 2 * self.reg * W")
    assert fc.count("2 * self.reg") == 1 and cnn.count("2 * self.reg") == 3
    for result, weights in ((_fc(fc), {"W1", "W2", "W3"}), (_cnn(cnn), {"W1", "W2", "W3"})):
        judged = {c.tensor.split()[-1] for c in result.failures if c.witnesses[1] == "JAX (float64)"}
        assert judged == {"loss"} | weights, result.render()
        assert {c.bug for c in result.failures} == {"regularization_not_halved"}
        assert not [c for c in result.failures if "finite differences" in c.witnesses[1]]  # consistent with itself


def test_scores_with_y_none_are_the_test_mode_net_and_dropout_left_on_fails_there_only():
    result = _fc(FC_NET)
    scored = {c.problem.split("normalization=")[1].split("), X")[0] for c in result.comparisons if c.tensor.endswith("scores")}
    assert scored == {"none, keep=1", "layernorm, keep=1", "none, keep=0.75"}  # batchnorm's use running statistics
    still_training = FC_NET.replace('            self.dropout_param["mode"] = mode\n', "            pass\n")
    assert still_training != FC_NET
    failing = _fc(still_training).failures
    assert [(c.tensor, c.problem.split("normalization=")[1].split("), X")[0]) for c in failing] == [
        ("FullyConnectedNet scores", "none, keep=0.75")]
    assert _cnn(CNN).comparisons[-1].tensor == "ThreeLayerConvNet scores"


def test_a_large_gradient_wrong_in_one_entry_is_located_by_differences_of_your_forward():
    module = module_of(CORRECT + '''
_conv_backward = conv_backward_naive


def conv_backward_naive(dout, cache):
    dx, dw, db = _conv_backward(dout, cache)
    dw = dw.copy()
    dw[1, 0, 2, 1] += 0.5
    return dx, dw, db
''')
    result = check_layers({name: getattr(module, name) for name in ("conv_forward_naive", "conv_backward_naive")})
    directions = [c for c in result.failures if c.tensor.startswith("conv_backward_naive dw·v")]
    assert directions and {c.witnesses[1] for c in result.failures} == {"JAX (float64)", "finite differences of your forward"}
    for record in directions:  # every problem's filters are 2×… or larger: the entry is there in each
        assert "located by group testing" in record.note and "dw[1, 0, 2, 1] off by +0.5" in record.note, record.note
    assert {c.tensor.split("·")[0] for c in result.failures} == {"conv_backward_naive dw"}


@pytest.mark.parametrize("pair, source", [
    (("relu_forward", "relu_backward"), '''
_relu_backward = relu_backward


def relu_backward(dout, cache):
    dx = _relu_backward(dout, cache)
    cache[cache < 0] = 0  # "tidies" the cache, which is the caller's x
    return dx
'''),
    (("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt"), '''
_batchnorm_backward = batchnorm_backward


def batchnorm_backward(dout, cache):
    grads = _batchnorm_backward(dout, cache)
    cache[0][...] = 0  # the notebook runs batchnorm_backward_alt on this cache next
    return grads
'''),
], ids=["relu", "batchnorm"])
def test_a_backward_that_changes_its_cache_fails_there_and_only_there(pair, source):
    module = module_of(CORRECT + source)
    result = check_layers({name: getattr(module, name) for name in pair})
    assert result.failures and {(c.tensor.split()[0], c.bug) for c in result.failures} == {(pair[1], "inputs_mutated")}
    assert all("cache" in c.tensor for c in result.failures), result.render()


def test_assignment_2s_two_layer_net_is_called_as_its_handout_says():
    # TwoLayerNet(input_dim, hidden_dim, num_classes, weight_scale, reg).loss(X, y=None): no reg argument
    module = module_of(FC_NET, "fc_net")
    assert detect(module) == ("two_layer_net", "fc_net")
    two_layer, _ = check_module(module, ("two_layer_net", "fc_net"))
    assert two_layer.passed, two_layer.render()
    assert any("regularisation read as 0.5·reg·ΣW²" in c.problem for c in two_layer.comparisons)
    unhalved = FC_NET.replace('        loss += 0.5 * self.reg * (np.sum(self.params["W1"] ** 2)',
                              '        loss += self.reg * (np.sum(self.params["W1"] ** 2)')
    assert unhalved != FC_NET
    (wrong,) = check_module(module_of(unhalved, "fc_net"), ("two_layer_net",))
    # the loss is off the handout's; its gradients, the handout's reg·W, no longer match its own loss
    assert {(c.tensor, c.witnesses[1]) for c in wrong.failures} == {
        ("TwoLayerNet loss", "JAX (float64)"), ("TwoLayerNet W1", "finite differences of your loss"),
        ("TwoLayerNet W2", "finite differences of your loss")}


def test_parameter_gradients_kept_as_1_by_d_pass_as_the_handouts_notebook_passes_them_and_dx_may_not():
    # dgamma, dbeta and the running statistics with keepdims=True: (1, D) for (D,); the notebook's rel_error broadcasts
    module = module_of(CORRECT + """
_batchnorm_forward, _batchnorm_backward = batchnorm_forward, batchnorm_backward


def batchnorm_forward(x, gamma, beta, bn_param):
    out, cache = _batchnorm_forward(x, gamma, beta, bn_param)
    if bn_param.get("mode", "train") == "train":
        bn_param["running_mean"] = bn_param["running_mean"].reshape(1, -1)
        bn_param["running_var"] = bn_param["running_var"].reshape(1, -1)
    return out, cache


def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = _batchnorm_backward(dout, cache)
    return dx, dgamma.reshape(1, -1), dbeta.reshape(1, -1)
""")
    names = ("batchnorm_forward", "batchnorm_backward")
    result = check_layers({name: getattr(module, name) for name in names})
    assert result.passed, result.render()
    assert any("dgamma returned as (1, 5), the handout's (5,)" in c.problem for c in result.comparisons)
    assert any("running_mean returned as (1, 5)" in c.problem for c in result.comparisons)
    # the same leniency never covers a gradient of another shape: dx as (N, D, 1) still fails
    wrong = module_of(CORRECT + """
_batchnorm_backward = batchnorm_backward


def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = _batchnorm_backward(dout, cache)
    return dx[:, :, None], dgamma, dbeta
""")
    failing = {c.tensor for c in check_layers({n: getattr(wrong, n) for n in names}).failures}
    assert failing == {"batchnorm_backward dx"}


def test_group_norms_gamma_is_the_notebooks_1_c_1_1_whatever_the_docstring_says():
    # 2019 and 2020: the docstring says (C,), the notebook passes (1, C, 1, 1) and the code relies on it
    module = module_of(CORRECT + '''
_spatial_groupnorm_forward = spatial_groupnorm_forward


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """gamma: Scale parameter, of shape (C,)"""
    assert gamma.ndim == 4, "this code broadcasts a (1, C, 1, 1) gamma"
    return _spatial_groupnorm_forward(x, gamma, beta, G, gn_param)
''')
    names = ("spatial_groupnorm_forward", "spatial_groupnorm_backward")
    result = check_layers({name: getattr(module, name) for name in names})
    assert result.passed, result.render()
    assert all("gamma (1, " in c.problem for c in result.comparisons)


def test_a_groupnorm_dgamma_of_c_against_the_notebooks_1_c_1_1_fails_as_the_notebook_fails_it():
    # rel_error((1, C, 1, 1), (C,)) broadcasts every entry against every other: no leniency there
    module = module_of(CORRECT + SECOND["groupnorm dgamma without keepdims"].source)
    names = ("spatial_groupnorm_forward", "spatial_groupnorm_backward")
    failing = {c.tensor for c in check_layers({name: getattr(module, name) for name in names}).failures}
    assert failing == {"spatial_groupnorm_backward dgamma"}


@pytest.mark.parametrize("pair, source, bug", [
    (("conv_forward_naive", "conv_backward_naive"), '''
_conv_backward_naive = conv_backward_naive


def conv_backward_naive(dout, cache):
    dx, dw, db = _conv_backward_naive(dout, cache)
    pad = cache[3]["pad"]
    dx_pad = np.pad(dx, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    for i in range(dx.shape[0]):
        dx[i] = dx_pad[i][:, pad:-pad, pad:-pad]
    return dx, dw, db
''', "conv_pad_zero_slice"),
    (("max_pool_forward_naive", "max_pool_backward_naive"), '''
def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * s:i * s + ph, j * s:j * s + pw]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s:i * s + ph, j * s:j * s + pw] = mask * dout[:, :, i, j][:, :, None, None]
    return dx
''', "max_pool_overlap_overwritten"),
    (("conv_forward_naive", "conv_backward_naive"), '''
def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
    for n in range(0):  # the loop over the batch never runs
        pass
    return dx, dw, dout.sum(axis=(0, 2, 3))
''', "gradient_all_zero"),
], ids=["[pad:-pad] raising per sample", "max-pool windows assigned whole", "dx and dw never filled"])
def test_public_solutions_mistakes_are_named(pair, source, bug, tmp_path):
    from gradcheck.adapters import load

    (tmp_path / "layers.py").write_text(CORRECT + source)  # a real file: the report quotes its lines
    module, _ = load(str(tmp_path / "layers.py"))
    result = check_layers({name: getattr(module, name) for name in pair})
    assert {c.tensor.split()[0] for c in result.failures} == {pair[1]}, result.render()
    assert {c.bug for c in result.failures if c.tensor.split()[1] in ("dx", "dw")} == {bug}, result.render()


def test_a_fully_connected_nets_gamma_and_beta_gradients_kept_as_1_by_d_pass_as_the_notebook_passes_them():
    head, tail = FC_NET.rsplit("        return loss, grads\n", 1)  # FullyConnectedNet's, the last class
    kept = head + ("        grads = {k: v.reshape(1, -1) if k.startswith(('gamma', 'beta')) else v\n"
                   "                 for k, v in grads.items()}\n        return loss, grads\n") + tail
    result = _fc(kept)
    assert result.passed, result.render()
    assert any("grads['gamma1'] returned as (1, 6)" in c.problem for c in result.comparisons)
