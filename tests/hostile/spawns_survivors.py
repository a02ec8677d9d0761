"""Starts processes meant to outlive the grading, then returns zeros."""
import os
import subprocess

import numpy as np

EXPECT = "disagree"


def two_layer_grads(X, y, W1, W2):
    subprocess.Popen(["sleep", "4242"], start_new_session=True)
    if os.fork() == 0:
        os.setsid()
        os.execvp("sleep", ["sleep", "4243"])
    return np.zeros_like(W1), np.zeros_like(W2)
