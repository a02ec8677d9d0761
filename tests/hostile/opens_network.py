"""Phones home over loopback."""
import socket

EXPECT = "ConnectionRefusedError|OSError|Network is unreachable|timed out"
PORT = 0  # replaced by the test with the port of its listener


def two_layer_grads(X, y, W1, W2):
    with socket.create_connection(("127.0.0.1", PORT), timeout=2) as conn:
        conn.sendall(b"the inputs were ...")
    raise RuntimeError("connected")
