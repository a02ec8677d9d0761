"""Crashes the interpreter."""
import ctypes

EXPECT = "SIGSEGV"


def two_layer_grads(X, y, W1, W2):
    ctypes.string_at(0)
