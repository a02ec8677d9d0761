"""Tests a hw0 handout could ship: each gradient checked against the equations by gradcheck."""
import pytest

import simple_ml


def test_softmax_loss_is_the_mean_cross_entropy(gradcheck):
    gradcheck.softmax_loss(simple_ml.softmax_loss)


def test_softmax_regression_epoch_takes_correct_sgd_steps(gradcheck):
    gradcheck.softmax_regression_epoch(simple_ml.softmax_regression_epoch)


@pytest.mark.gradcheck(trials=2)
def test_nn_epoch_follows_eqs_10_and_11(gradcheck):
    gradcheck.nn_epoch(simple_ml.nn_epoch, lr=0.2, batch=10)
