"""CS231n assignment 1's linear classifiers: correct losses pass, each classic mistake fails with its name."""

from __future__ import annotations

import importlib.util
import pathlib

from gradcheck.checks.conventions import check_module, detect

HERE = pathlib.Path(__file__).parent / "classifiers"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"classifiers_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_correct_naive_and_vectorized_losses_pass_and_are_detected_by_name():
    module = load("correct")
    assert detect(module) == ("linear_classifiers",)
    (result,) = check_module(module)
    assert result.passed, result.render()
    checked = {c.tensor.split()[0] for c in result.comparisons}
    assert checked == {"svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized"}
    assert any("finite differences of your loss" in c.witnesses for c in result.comparisons)


def test_the_older_handouts_half_regularisation_passes_and_the_report_says_it_was_read_so():
    (result,) = check_module(load("half_reg"))
    assert result.passed, result.render()
    assert any("regularisation read as 0.5·reg·ΣW²" in (c.problem or "") for c in result.comparisons)


def test_a_gradient_without_the_batch_mean_or_the_regularisation_fails_with_its_name():
    (result,) = check_module(load("buggy"))
    named = {c.tensor.split()[0]: c.bug for c in result.failures if c.tensor.endswith("dW")}
    assert named == {"svm_loss_vectorized": "sum_instead_of_mean",
                     "softmax_loss_vectorized": "regularization_gradient_missing"}, result.render()
    assert not [c for c in result.failures if c.tensor.endswith("loss")]  # the losses themselves are right


def test_a_classifier_file_with_a_stub_says_what_was_not_checked(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "linear_svm.py"
    path.write_text((HERE / "correct.py").read_text() + "\n\ndef predict(W, X):\n    pass\n")
    out = subprocess.run([sys.executable, "-m", "gradcheck", "check", str(path)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "linear_svm: PASS" in out.stdout or "PASS" in out.stdout
    assert "not checked: predict" in out.stdout


def test_a_correct_two_layer_net_passes_its_scores_loss_and_every_gradient():
    module = load("neural_net")
    assert detect(module) == ("two_layer_net",)
    (result,) = check_module(module)
    assert result.passed, result.render()
    assert {c.tensor for c in result.comparisons} >= {"TwoLayerNet loss", "TwoLayerNet scores", "TwoLayerNet W1",
                                                      "TwoLayerNet b1", "TwoLayerNet W2", "TwoLayerNet b2"}


def test_a_two_layer_net_without_relus_derivative_fails_in_w1_and_b1_only():
    (result,) = check_module(load("neural_net_buggy"))
    assert {c.tensor for c in result.failures} == {"TwoLayerNet W1", "TwoLayerNet b1"}, result.render()


def _net_variant(tmp_path, old: str, new: str):
    source = (HERE / "neural_net.py").read_text()
    assert old in source
    path = tmp_path / "neural_net_variant.py"
    path.write_text(source.replace(old, new))
    spec = importlib.util.spec_from_file_location("classifiers_variant", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_layer_net_gradients_meet_finite_differences_of_its_own_loss_too():
    (result,) = check_module(load("neural_net"))
    witnessed = {c.tensor for c in result.comparisons if c.witnesses[1] == "finite differences of your loss"}
    assert witnessed == {"TwoLayerNet W1", "TwoLayerNet b1", "TwoLayerNet W2", "TwoLayerNet b2"}


def test_a_two_layer_net_without_the_batch_mean_or_the_regularisation_gradient_is_named(tmp_path):
    summed = _net_variant(tmp_path, "        dscores /= N\n", "")
    (result,) = check_module(summed)
    assert set(result.diagnoses) == {"sum_instead_of_mean"}, result.render()
    unregularised = _net_variant(tmp_path, "grads['W2'] = hidden.T.dot(dscores) + 2 * reg * W2",
                                 "grads['W2'] = hidden.T.dot(dscores)")
    (result,) = check_module(unregularised)
    assert {c.tensor for c in result.failures} == {"TwoLayerNet W2"} and result.diagnoses == ("regularization_gradient_missing",)
