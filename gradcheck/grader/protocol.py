"""The private channel between the trusted grader and the sandboxed submission.

One message is a length-prefixed JSON header followed by length-prefixed
``.npy`` blobs. Arrays are read back with ``allow_pickle=False``, so nothing
the submission sends can run code in the grader, and sizes are capped before
anything is allocated. This module imports only the standard library and numpy,
because the sandboxed side runs it too.
"""

from __future__ import annotations

import io
import json
import os
import struct
from typing import Any, Callable

import numpy as np

MAX_HEADER = 1 << 20  # 1 MiB of JSON
MAX_ARRAY = 64 << 20  # 64 MiB per array
MAX_ARRAYS = 1024
MAX_MESSAGE = 128 << 20  # 128 MiB in all: a gradient answer is far smaller


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


def encode(value: Any, arrays: list[bytes], keep: Callable[[Any], int] | None = None,
           held: Callable[[Any], bool] | None = None) -> Any:
    """Turn ``value`` into JSON-ready data, appending its arrays as .npy blobs.

    Objects that are neither numbers, strings, arrays nor containers become
    handles through ``keep`` (the sandbox keeps them; the grader never sees them),
    and so do those ``held`` picks (a needle Tensor stays a node even if it reads as an array).
    """
    if keep is not None and held is not None and held(value):
        return {"t": "handle", "id": keep(value), "type": type(value).__name__}
    if value is None or isinstance(value, (bool, str)):
        return {"t": "value", "v": value}
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, np.ndarray):
        number = float(value) if isinstance(value, (float, np.floating)) else int(value)
        if isinstance(number, float) and not np.isfinite(number):
            return {"t": "float", "v": repr(number)}
        return {"t": "value", "v": number}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        # a model's dtype=np.float64 keyword: sent by name, a type on the other side again
        return {"t": "dtype", "v": np.dtype(value).name, "type": isinstance(value, type)}
    if isinstance(value, np.ndarray) or (hasattr(value, "__array__") and not isinstance(value, (list, tuple, dict))):
        buffer = io.BytesIO()
        array = np.array(value, copy=True)
        if array.dtype.hasobject:
            array = np.array(value.tolist() if hasattr(value, "tolist") else value, dtype=np.float64)
        np.save(buffer, np.ascontiguousarray(array).view(np.ndarray), allow_pickle=False)
        arrays.append(buffer.getvalue())
        return {"t": "array", "i": len(arrays) - 1}
    if isinstance(value, (list, tuple)):
        return {"t": type(value).__name__, "v": [encode(v, arrays, keep, held) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"t": "dict", "v": {k: encode(v, arrays, keep, held) for k, v in value.items()}}
    if keep is None:
        raise ProtocolError(f"cannot send a {type(value).__name__}")
    return {"t": "handle", "id": keep(value), "type": type(value).__name__}


def decode(data: Any, arrays: list[np.ndarray], handle: Callable[[int, str], Any] | None = None) -> Any:
    """The inverse of :func:`encode`; handles become whatever ``handle`` makes of them."""
    if not isinstance(data, dict) or "t" not in data:
        raise ProtocolError("malformed value")
    kind = data["t"]
    if kind == "value":
        return data.get("v")
    if kind == "float":
        return float(data["v"])
    if kind == "array":
        index = data.get("i")
        if not isinstance(index, int) or not 0 <= index < len(arrays):
            raise ProtocolError("array index out of range")
        return arrays[index]
    if kind == "dtype":
        if data.get("v") not in DTYPES:
            raise ProtocolError(f"unexpected dtype {data.get('v')!r}")
        dtype = np.dtype(data["v"])
        return dtype.type if data.get("type") else dtype
    if kind in ("list", "tuple"):
        items = [decode(v, arrays, handle) for v in data["v"]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {str(k): decode(v, arrays, handle) for k, v in data["v"].items()}
    if kind == "handle" and handle is not None:
        return handle(int(data["id"]), str(data.get("type", "object")))
    raise ProtocolError(f"unexpected value kind {kind!r}")


def send(fd: int, header: dict, arrays: list[bytes], write: Callable[[int, memoryview], int] = os.write) -> None:
    """Write one message to ``fd`` (through ``write``, which may enforce a deadline)."""
    body = json.dumps({**header, "n_arrays": len(arrays)}).encode()
    chunks = [struct.pack(">Q", len(body)), body]
    for blob in arrays:
        chunks += [struct.pack(">Q", len(blob)), blob]
    payload = b"".join(chunks)
    view = memoryview(payload)
    while view:
        written = write(fd, view)
        view = view[written:]


def receive(read: Callable[[int], bytes]) -> tuple[dict, list[np.ndarray]]:
    """Read one message with ``read(n)`` (which returns exactly n bytes or raises)."""
    (length,) = struct.unpack(">Q", read(8))
    if length > MAX_HEADER:
        raise ProtocolError(f"header of {length} bytes is over the {MAX_HEADER}-byte limit")
    try:
        header = json.loads(read(length))
    except ValueError as exc:
        raise ProtocolError(f"header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    count = header.get("n_arrays", 0)
    if not isinstance(count, int) or not 0 <= count <= MAX_ARRAYS:
        raise ProtocolError("bad array count")
    arrays, total = [], length
    for _ in range(count):
        (size,) = struct.unpack(">Q", read(8))
        total += size
        if size > MAX_ARRAY or total > MAX_MESSAGE:
            raise ProtocolError(f"the message is over its size limit ({MAX_ARRAY} bytes an array, "
                                f"{MAX_MESSAGE} in all)")
        try:
            array = np.load(io.BytesIO(read(size)), allow_pickle=False)
        except Exception as exc:
            raise ProtocolError(f"unreadable array ({exc})") from None
        arrays.append(np.asarray(array).view(np.ndarray))
    return header, arrays


def reader(fd: int) -> Callable[[int], bytes]:
    """A blocking ``read(n)`` on ``fd`` that raises EOFError when the other side is gone."""
    def read(n: int) -> bytes:
        parts, left = [], n
        while left:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the other side closed the channel")
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)
    return read
