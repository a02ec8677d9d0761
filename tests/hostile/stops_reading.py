"""Answers before it is asked, then stops reading, hoping the grader blocks on its next request."""
import sys
import time

import numpy as np

EXPECT = "disagree|time limit"


def two_layer_grads(X, y, W1, W2):
    import protocol  # the sandbox's own channel code, next to its entry point

    out = int(sys.argv[3])
    for _ in range(50):  # fake answers for calls not yet made
        blobs = []
        result = protocol.encode((np.zeros_like(W1), np.zeros_like(W2)), blobs)
        protocol.send(out, {"ok": True, "result": result, "args_after": [None] * 4}, blobs)
    time.sleep(1000)
