"""Run a submission in a separate, locked-down process and call into it from the trusted grader.

Layers, strongest available first (the one used is reported with every grade):

1. ``bubblewrap, uid nobody``: the process switches to an unprivileged uid,
   then enters bubblewrap: read-only root, private /tmp, no network, new
   session and pid namespace, the grader's files hidden, a clean environment.
2. ``bubblewrap, namespace uid``: the same, with the uid changed inside a user
   namespace only (used when the Python interpreter is not readable by nobody).
3. ``rlimits, uid nobody`` / ``rlimits``: a plain child process.

Every layer sets rlimits (address space, CPU time, file size, open files,
processes), runs ``python -I`` with one BLAS thread, and is killed as a whole
process group when its wall-clock budget runs out.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gradcheck.grader import protocol

CHILD_SOURCES = (Path(__file__).with_name("child.py"), Path(__file__).with_name("protocol.py"))


@functools.lru_cache(maxsize=None)
def _child_dir() -> Path:
    """A private copy of the sandbox-side code, so the gradcheck package itself can stay hidden."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="gradcheck-child-"))
    for source in CHILD_SOURCES:
        (folder / source.name).write_bytes(source.read_bytes())
        (folder / source.name).chmod(0o644)
    folder.chmod(0o755)
    return folder


def _answer_keys() -> list[Path]:
    """The packages that hold reference solutions: the submission must not import them."""
    import gradcheck
    import reference_mlp

    return [Path(gradcheck.__file__).resolve().parent, Path(reference_mlp.__file__).resolve().parent]
NOBODY = 65534
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
             "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


class SubmissionError(Exception):
    """The submission failed in a way the grader reports as the reason for a zero."""


@dataclass(frozen=True)
class Limits:
    """Budgets of one sandboxed process."""

    seconds: float = 60.0
    memory_mb: int = 1024
    file_mb: int = 16
    open_files: int = 64
    processes: int = 64


# Limits and the uid switch are applied by a tiny separate interpreter that then
# execs the sandbox: forking the grader (which runs JAX threads) only to exec is safe,
# running Python code between fork and exec is not.
_TRAMPOLINE = """
import json, os, resource, sys
spec = json.loads(sys.argv[1])
for name, value in spec["limits"]:
    resource.setrlimit(getattr(resource, name), (value, value))
if spec["uid"] is not None:
    os.setgroups([]); os.setgid(spec["uid"]); os.setuid(spec["uid"])
    resource.setrlimit(resource.RLIMIT_NPROC, (spec["nproc"], spec["nproc"]))
os.execvp(sys.argv[2], sys.argv[2:])
"""


def _limited(limits: Limits, switch_uid: bool, command: list[str]) -> list[str]:
    """``command`` run under the rlimits of ``limits``, as uid nobody if asked."""
    mib = 1 << 20
    cpu = int(limits.seconds) + 1
    spec = {
        "limits": [("RLIMIT_AS", limits.memory_mb * mib), ("RLIMIT_CPU", cpu), ("RLIMIT_FSIZE", limits.file_mb * mib),
                   ("RLIMIT_NOFILE", limits.open_files), ("RLIMIT_CORE", 0)],
        "uid": NOBODY if switch_uid else None,
        "nproc": limits.processes,  # counted per uid: nobody's, so the grader's own processes do not count
    }
    return [sys.executable, "-I", "-S", "-c", _TRAMPOLINE, json.dumps(spec), *command]


def _runtime_paths() -> list[Path]:
    """Where this Python, its packages and the sandbox's own code live (they may sit under /tmp)."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent, _child_dir()}
    paths |= {Path(p) for key in ("purelib", "platlib") if (p := sysconfig.get_paths().get(key))}
    return sorted(p.resolve() for p in paths if p.exists())


def _bwrap(hide: Sequence[Path], mount: Path, namespace_uid: bool, env: dict[str, str]) -> list[str]:
    command = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
               "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    for path in _runtime_paths():  # a fresh /tmp must not hide the interpreter or numpy
        if str(path).startswith("/tmp/"):
            command += ["--ro-bind", str(path), str(path)]
    if namespace_uid:
        command += ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
    for key, value in env.items():
        command += ["--setenv", key, value]
    for path in [*_answer_keys(), *hide]:
        if path.is_dir():
            command += ["--tmpfs", str(path)]
        elif path.exists():
            command += ["--ro-bind", "/dev/null", str(path)]
    command += ["--ro-bind", str(mount), str(mount)]
    return command + ["--"]


LAYERS = ("bubblewrap, uid nobody", "bubblewrap, namespace uid", "rlimits, uid nobody", "rlimits")


def _command(layer: str, hide: Sequence[Path], mount: Path, env: dict[str, str] = CLEAN_ENV) -> tuple[list[str], bool]:
    """The command prefix of a layer, and whether to switch uid before it."""
    if layer.startswith("bubblewrap"):
        return _bwrap(hide, mount, layer.endswith("namespace uid"), env), layer.endswith("uid nobody")
    return [], layer.endswith("uid nobody")


@functools.lru_cache(maxsize=None)
def best_layer() -> str:
    """The strongest layer that can run Python with numpy on this machine (probed once).

    ``GRADCHECK_SANDBOX`` may name a weaker layer to use instead (for comparing layers).
    """
    forced = os.environ.get("GRADCHECK_SANDBOX", "")
    if forced:
        if forced not in LAYERS:
            raise ValueError(f"GRADCHECK_SANDBOX must be one of {', '.join(LAYERS)}; got {forced!r}")
        return forced
    candidates = list(LAYERS)
    if shutil.which("bwrap") is None:
        candidates = [c for c in candidates if not c.startswith("bubblewrap")]
    if os.geteuid() != 0:
        candidates = [c for c in candidates if not c.endswith("uid nobody")]
    for layer in candidates:
        prefix, switch = _command(layer, (), _child_dir())
        try:
            probe = subprocess.run(_limited(Limits(seconds=30), switch, prefix + [sys.executable, "-I", "-c", "import numpy"]),
                                   env=CLEAN_ENV, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return layer
    return "rlimits"


class Sandbox:
    """One sandboxed process holding one submission file, for the length of a ``with`` block."""

    def __init__(self, submission: Path, *, limits: Limits = Limits(), hide: Sequence[Path] = (), layer: str | None = None):
        self.submission = Path(submission).resolve()
        self.limits = limits
        self.hide = tuple(Path(p).resolve() for p in hide)
        self.layer = layer or best_layer()
        self.process: subprocess.Popen | None = None
        self.names: dict[str, dict] = {}
        self.dead: str | None = None
        # The time limit is the submission's: it runs down only while the grader waits for an
        # answer, never while the grader computes its own verdicts (which a busy machine slows).
        self.budget = float(limits.seconds)
        self.deadline = 0.0

    def __enter__(self) -> "Sandbox":
        requests_r, self._requests = os.pipe()
        self._replies, replies_w = os.pipe()
        # Every process of this submission carries the token, so that those that leave
        # the process group (setsid) can still be found and stopped without namespaces.
        self.token = os.urandom(8).hex()
        self.env = {**CLEAN_ENV, "GRADCHECK_SANDBOX_TOKEN": self.token}
        prefix, switch = _command(self.layer, self.hide, self.submission.parent, self.env)
        child = _child_dir() / "child.py"
        command = prefix + [sys.executable, "-I", "-B", str(child), str(self.submission), str(requests_r), str(replies_w)]
        self._start_clock()
        self.process = subprocess.Popen(
            _limited(self.limits, switch, command), env=self.env, cwd=str(self.submission.parent),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(requests_r, replies_w), start_new_session=True,
        )
        os.close(requests_r)
        os.close(replies_w)
        os.set_blocking(self._requests, False)  # writes wait in select, against the deadline
        header, _ = self._receive()
        self._stop_clock()
        if not header.get("ok"):
            raise SubmissionError(str(header.get("error", "the submission could not be imported"))[:2000])
        names = header.get("names")
        self.names = names if isinstance(names, dict) else {}
        return self

    def _start_clock(self) -> None:
        self.deadline = time.monotonic() + self.budget

    def _stop_clock(self) -> None:
        self.budget = max(0.0, self.deadline - time.monotonic())

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Kill the submission's whole process group and reap it; nothing it started survives."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        _kill_marked(f"GRADCHECK_SANDBOX_TOKEN={self.token}".encode())
        for fd in (self._requests, self._replies):
            try:
                os.close(fd)
            except OSError:
                pass
        self.process = None

    def _read(self, n: int) -> bytes:
        parts, left = [], n
        while left:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._replies], [], [], remaining)[0]:
                self._die(f"time limit of {self.limits.seconds:g} s exceeded; the submission was stopped")
            chunk = os.read(self._replies, min(left, 1 << 20))
            if not chunk:
                code = self.process.wait() if self.process else None
                self._die(_exit_reason(code))
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def _write(self, fd: int, data: memoryview) -> int:
        """Write within the time budget: a submission that stops reading cannot stall the grader."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
            self._die(f"time limit of {self.limits.seconds:g} s exceeded; the submission was stopped")
        try:
            return os.write(fd, data[: 1 << 16])
        except BlockingIOError:
            return 0

    def _die(self, reason: str) -> None:
        self.dead = reason
        self.close()
        raise SubmissionError(reason)

    def _receive(self) -> tuple[dict, list[np.ndarray]]:
        try:
            return protocol.receive(self._read)
        except protocol.ProtocolError as exc:
            self._die(f"the submission's process sent a malformed answer ({exc})")

    def request(self, header: dict, arrays: list[bytes]) -> tuple[dict, list[np.ndarray]]:
        """Send one request and wait (within the time budget) for its answer."""
        if self.dead:
            raise SubmissionError(f"the submission's process is no longer running: {self.dead}")
        self._start_clock()
        try:
            protocol.send(self._requests, header, arrays, write=self._write)
        except OSError:
            code = self.process.wait() if self.process else None
            self._die(_exit_reason(code))
        reply, blobs = self._receive()
        self._stop_clock()
        if not reply.get("ok"):
            raise SubmissionError(str(reply.get("error", "the call failed"))[:2000])
        return reply, blobs

    def module(self) -> "RemoteModule":
        """The submission's top-level names, callable from the grader."""
        return RemoteModule(self)


def _kill_marked(marker: bytes) -> None:
    """SIGKILL every process whose environment carries ``marker`` (those that escaped the group)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "the submission's process ended"
    if code > 128 and code - 128 in signal.Signals._value2member_map_:
        code = -(code - 128)  # bubblewrap reports a signal as 128 + its number
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        extra = {"SIGKILL": " (killed: memory or CPU limit)", "SIGXCPU": " (CPU time limit)",
                 "SIGSEGV": " (segmentation fault)"}.get(name, "")
        return f"the submission's process died from {name}{extra}"
    return f"the submission's process exited with status {code}"


class RemoteObject:
    """An object living in the sandbox (a cache, a layer instance), used through its handle."""

    def __init__(self, box: Sandbox, handle: int | None, name: str = "object"):
        self._box, self._handle, self._name = box, handle, name

    def _call(self, name: str, args: tuple, kwargs: dict) -> Any:
        blobs: list[bytes] = []
        header = {"op": "call", "handle": self._handle, "name": name,
                  "args": [protocol.encode(a, blobs, _handle_of) for a in args],
                  "kwargs": {k: protocol.encode(v, blobs, _handle_of) for k, v in kwargs.items()}}
        reply, arrays = self._box.request(header, blobs)
        make = functools.partial(RemoteObject, self._box)
        result = protocol.decode(reply.get("result"), arrays, lambda h, t: make(h, t))
        for original, after in zip(args, reply.get("args_after") or []):
            if isinstance(original, np.ndarray) and after is not None:
                changed = protocol.decode(after, arrays, lambda h, t: None)
                if isinstance(changed, np.ndarray) and changed.shape == original.shape and original.flags.writeable:
                    np.copyto(original, changed, casting="unsafe")  # in-place updates, as the submission made them
        return result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        box, handle = self._box, self._handle

        def method(*args: Any, **kwargs: Any) -> Any:
            return RemoteObject(box, handle)._call(name, args, kwargs)

        if handle is None:
            return method
        try:
            reply, arrays = box.request({"op": "getattr", "handle": handle, "name": name}, [])
        except SubmissionError as exc:
            if str(exc).startswith("AttributeError"):
                raise AttributeError(str(exc)) from None
            raise
        value = protocol.decode(reply.get("result"), arrays, lambda h, t: RemoteObject(box, h, t))
        if isinstance(value, RemoteObject):
            return method  # a bound method or other callable living in the sandbox
        return value


def _handle_of(value: Any) -> int:
    if isinstance(value, RemoteObject) and value._handle is not None:
        return value._handle
    raise protocol.ProtocolError(f"cannot send a {type(value).__name__} to the submission")


class RemoteModule:
    """The submission's module as the checks see it: its functions and classes, run in the sandbox."""

    def __init__(self, box: Sandbox):
        self.__name__ = box.submission.stem
        for name, info in box.names.items():
            if isinstance(info, dict) and isinstance(name, str) and name.isidentifier():
                setattr(self, name, _remote_callable(box, name, info))


def _remote_callable(box: Sandbox, name: str, info: dict) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return RemoteObject(box, None)._call(name, args, kwargs)

    call.__name__ = call.__qualname__ = name
    params = [p for p in info.get("params", []) if isinstance(p, str) and p.isidentifier()]
    call.__signature__ = inspect.Signature(
        [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params])
    if info.get("kind") == "class":
        return type(name, (), {"__new__": lambda cls, *a, **k: call(*a, **k)})
    return call
