"""Streams gigabytes into the answer channel to exhaust the grader's memory."""
import os
import struct
import sys
import time

EXPECT = "over its size limit|malformed answer"


def two_layer_grads(X, y, W1, W2):
    out = int(sys.argv[3])
    header = b'{"ok": true, "result": {"t": "value", "v": null}, "n_arrays": 1000}'
    os.write(out, struct.pack(">Q", len(header)) + header)
    chunk = b"\0" * (1 << 20)
    for _ in range(1000):
        os.write(out, struct.pack(">Q", 60 << 20))
        for _ in range(60):
            os.write(out, chunk)
    time.sleep(1000)
