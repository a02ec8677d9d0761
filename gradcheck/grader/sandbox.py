"""Run a submission in a separate, locked-down process and call into it from the trusted grader.

The submission never runs with the grader's privileges. Layers, strongest first
(the one used is named in every grade):

1. ``bubblewrap, private uid`` (grader running as root): a read-only root,
   private /tmp and /dev, no network, new session and pid namespace, the
   grader's files hidden, and the process switched to a uid of its own (no
   capabilities, no access to root's files). Python stays visible even where
   it lives under a folder that uid could not enter (``/root/.pyenv``, a venv
   inside the hidden spec folder): bubblewrap shows the runtime alone again.
2. ``unshare, private uid`` (root, no bubblewrap): util-linux ``unshare`` gives
   the same namespaces without the read-only root; the hidden paths are
   covered by empty mounts and the process runs as its own uid.
3. ``bubblewrap, namespace uid`` (grader not root): bubblewrap inside a user
   namespace; the process keeps the grader's uid outside it, but sees the
   file system read-only with the grader's files hidden.

When none of them works the grader refuses to run (:class:`SandboxUnavailable`
says how to fix it); ``allow_unsafe`` (``gradcheck grade --unsafe-no-sandbox``)
runs a plain child process instead, and every grade says so.

Every layer sets rlimits (address space, CPU time, file size, open files,
processes), runs ``python -I`` with one BLAS thread, and kills the whole
process tree when the check ends or the grader dies. The time limit is charged
with the submission's own CPU time only; a generous wall-clock allowance stops
a submission that sleeps instead of answering.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gradcheck.adapters import Described
from gradcheck.grader import needle_calls, protocol
from gradcheck.grader.submission import RefusedSubmission, copy_submission

CHILD_SOURCES = tuple(Path(__file__).with_name(f) for f in ("child.py", "importing.py", "needle_calls.py", "protocol.py"))
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
             "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
PRIVATE_UIDS = 1_610_000_000  # first uid of the range sandboxes use: far above any account's uid
NOBODY = 65534  # the uid a user namespace shows (the grader's own uid outside it)
STARTUP_SECONDS = 120.0  # how long Python with numpy may take to start in the sandbox on a loaded machine
POLL = 0.2  # seconds between two looks at the submission's CPU time while the grader waits
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")
CORES = os.cpu_count() or 1  # the most CPU seconds the submission can use per second of wall time

BUBBLEWRAP, UNSHARE, NAMESPACE, UNSAFE = (
    "bubblewrap, private uid", "unshare, private uid", "bubblewrap, namespace uid", "none (unsafe)")
LAYERS = (BUBBLEWRAP, UNSHARE, NAMESPACE, UNSAFE)


class SubmissionError(Described):
    """The submission failed in a way the grader reports as the reason for a zero (its message says how)."""


class GraderError(Exception):
    """Grading itself failed (the sandbox, the grader's machine): never the student's zero."""


class SandboxUnavailable(GraderError):
    """No layer can run the submission without the grader's privileges; the message says how to fix it."""


@dataclass(frozen=True)
class Limits:
    """Budgets of one sandboxed submission.

    ``seconds`` is CPU time of the submission's own processes. ``wait_seconds``
    (default ``4 × seconds + 30``) bounds the wall-clock time the grader waits on
    it, for code that sleeps or blocks. ``watchdog`` (default ``10 × seconds +
    600``) bounds the whole check, grader's work included: running past it
    between two calls is a grader error.
    """

    seconds: float = 60.0
    memory_mb: int = 1024
    file_mb: int = 16
    open_files: int = 64
    processes: int = 64
    wait_seconds: float | None = None
    watchdog: float | None = None

    @property
    def wait(self) -> float:
        """Wall-clock seconds the grader waits on the submission in all."""
        return self.wait_seconds if self.wait_seconds is not None else 4 * self.seconds + 30

    @property
    def whole_check(self) -> float:
        """Wall-clock seconds of the whole check."""
        return self.watchdog if self.watchdog is not None else 10 * self.seconds + 600


# Runs first inside the sandbox, as the grader's uid: hides paths (unshare layer), sets
# rlimits, drops to the private uid and execs the submission's interpreter. Forking the
# grader (which runs JAX threads) only to exec is safe; running Python between fork and
# exec is not, hence a separate interpreter.
_TRAMPOLINE = r"""
import ctypes, json, os, resource, sys
spec = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
def fail(what):
    sys.stderr.write("gradcheck sandbox: %s: %s\n" % (what, os.strerror(ctypes.get_errno())))
    os._exit(125)
for path, kind in spec["mounts"]:
    if kind == "dir":
        done = libc.mount(b"tmpfs", path.encode(), b"tmpfs", 2 | 4 | 8, b"mode=0755,size=64k")
    else:
        done = libc.mount(b"/dev/null", path.encode(), None, 4096, None)  # MS_BIND
    if done != 0:
        fail("cannot hide " + path)
for name, value in spec["limits"]:
    resource.setrlimit(getattr(resource, name), (value, value))
if spec["uid"] is not None:
    os.setgroups([]); os.setgid(spec["uid"]); os.setuid(spec["uid"])
    resource.setrlimit(resource.RLIMIT_NPROC, (spec["nproc"], spec["nproc"]))
# Die with the parent (unshare, or the grader itself); set after the uid switch, which clears it.
if spec["pdeathsig"] and libc.prctl(1, 9, 0, 0, 0) != 0:  # PR_SET_PDEATHSIG, SIGKILL
    fail("cannot follow the grader's death")
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    fail("cannot forbid new privileges")
os.chdir(spec["cwd"])
os.execv(sys.argv[2], sys.argv[2:])
"""


def _answer_keys() -> list[Path]:
    """The packages that hold reference solutions: the submission must not import them."""
    import gradcheck
    import reference_mlp

    return [Path(gradcheck.__file__).resolve().parent, Path(reference_mlp.__file__).resolve().parent]


def _runtime_paths() -> list[Path]:
    """Where this Python, its standard library and numpy live: the sandbox must see them."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent}
    paths |= {Path(p) for key in ("stdlib", "platstdlib", "purelib", "platlib") if (p := sysconfig.get_paths().get(key))}
    paths = {p.resolve() for p in paths if p.exists()}
    return sorted(p for p in paths if not any(q != p and q in p.parents for q in paths))


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _closed_ancestor(path: Path) -> Path | None:
    """The outermost folder above ``path`` that another uid cannot enter, if any."""
    for ancestor in reversed(path.parents):
        if ancestor != Path("/") and not os.stat(ancestor).st_mode & stat.S_IXOTH:
            return ancestor
    return None


_uids = itertools.count()


def _private_uid() -> int:
    """A uid no account and no other sandbox uses (distinct across the processes of a batch)."""
    return PRIVATE_UIDS + (os.getpid() % (1 << 22)) * 64 + next(_uids) % 64


def _bubblewrap(layer: str, hide: Sequence[Path], shown: Sequence[Path], env: dict[str, str]) -> list[str]:
    """The bubblewrap prefix: ``hide`` covered, the runtime and ``shown`` (read-only) visible."""
    command = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
               "--die-with-parent", "--new-session", "--clearenv"]
    if layer == NAMESPACE:
        command += ["--unshare-all", "--uid", str(NOBODY), "--gid", str(NOBODY)]
    else:  # root: no user namespace, so that the private uid is a real, unprivileged uid outside too
        command += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    for key, value in env.items():
        command += ["--setenv", key, value]
    runtime = _runtime_paths()
    tmp = Path("/tmp")
    covered = {a for p in runtime if (a := _closed_ancestor(p)) is not None and not _within(a, tmp)}
    hidden = [p for p in hide if p.exists() and not _within(p, tmp)]

    def cover(paths: Sequence[Path]) -> list[str]:
        out: list[str] = []
        for path in paths:
            out += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
        return out

    def show(path: Path) -> list[str]:
        out: list[str] = []
        for ancestor in reversed(path.parents):  # folders bubblewrap creates must be enterable by the uid
            if any(_within(ancestor, c) and ancestor != c for c in [*covered, *hidden, tmp]):
                out += ["--perms", "0755", "--dir", str(ancestor)]
        return out + ["--ro-bind", str(path), str(path)]

    command += cover(sorted(covered)) + cover(hidden)
    for path in runtime:
        if any(_within(path, c) for c in [*covered, *hidden, tmp]):
            command += show(path)
    command += cover(_answer_keys())
    command += cover([p for p in hidden if not any(_within(r, p) for r in runtime)])  # hidden again after every bind
    for path in shown:
        command += show(path)
    return command + ["--"]


@functools.lru_cache(maxsize=None)
def _works(layer: str) -> str:
    """'' when ``layer`` runs Python with numpy here, else what went wrong."""
    if layer == UNSAFE:
        return ""
    root = os.geteuid() == 0
    if layer in (BUBBLEWRAP, UNSHARE) and not root:
        return "the grader is not running as root, so it cannot switch the submission to a uid of its own"
    if layer == NAMESPACE and root:
        return "as root, a user namespace would map the submission back to root outside it"
    tool = "bwrap" if layer in (BUBBLEWRAP, NAMESPACE) else "unshare"
    if shutil.which(tool) is None:
        return f"{tool} is not installed"
    with tempfile.TemporaryDirectory(prefix="gradcheck-probe-") as folder:
        os.chmod(folder, 0o755)
        command = _command(layer, _private_uid() if root else None, (), [Path(folder)], Path(folder), Limits(seconds=30),
                           [sys.executable, "-I", "-c", "import numpy"])
        try:
            probe = subprocess.run(command, env=CLEAN_ENV, capture_output=True, timeout=STARTUP_SECONDS)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{tool} could not run: {exc}"
    if probe.returncode != 0:
        lines = probe.stderr.decode(errors="replace").strip().splitlines()
        return f"Python with numpy did not start in it ({lines[-1] if lines else f'status {probe.returncode}'})"
    return ""


def best_layer(allow_unsafe: bool = False) -> str:
    """The strongest layer that can run Python with numpy here without the grader's privileges.

    ``GRADCHECK_SANDBOX`` may name a layer to use instead (to compare layers).
    Raises :class:`SandboxUnavailable`, with what to do, when no layer works.
    """
    forced = os.environ.get("GRADCHECK_SANDBOX", "")
    if forced:
        if forced not in LAYERS:
            raise SandboxUnavailable(f"GRADCHECK_SANDBOX must be one of {', '.join(LAYERS)}; got {forced!r}")
        if forced == UNSAFE and not allow_unsafe:
            raise SandboxUnavailable("GRADCHECK_SANDBOX names the unsafe layer; pass --unsafe-no-sandbox to use it")
        if problem := _works(forced):
            raise SandboxUnavailable(f"the {forced} layer cannot run here: {problem}")
        return forced
    reasons = []
    for layer in LAYERS[:-1]:
        problem = _works(layer)
        if not problem:
            return layer
        reasons.append(f"{layer}: {problem}")
    if allow_unsafe:
        return UNSAFE
    raise SandboxUnavailable(
        "no sandbox layer can run the submission without the grader's privileges ("
        + "; ".join(reasons) + "). Install bubblewrap (apt-get install bubblewrap) and, as root, make Python "
        "readable by other users (chmod -R a+rX on its folders), or pass --unsafe-no-sandbox for code you trust.")


def _command(layer: str, uid: int | None, hide: Sequence[Path], shown: Sequence[Path], cwd: Path, limits: Limits,
             command: list[str], env: dict[str, str] = CLEAN_ENV) -> list[str]:
    """``command`` run in ``layer`` as ``uid``, under ``limits``, with ``hide`` covered and ``cwd`` current."""
    mib = 1 << 20
    cpu = int(limits.seconds) + 10  # a backstop: the grader stops the submission at its CPU budget itself
    mounts: list[tuple[str, str]] = []
    if layer == UNSHARE:
        mounts = [(str(p), "dir" if p.is_dir() else "file") for p in [*hide, *_answer_keys()] if p.exists()]
    spec = {
        "limits": [("RLIMIT_AS", limits.memory_mb * mib), ("RLIMIT_CPU", cpu), ("RLIMIT_FSIZE", limits.file_mb * mib),
                   ("RLIMIT_NOFILE", limits.open_files), ("RLIMIT_CORE", 0)],
        "uid": uid, "nproc": limits.processes, "mounts": mounts, "cwd": str(cwd),
        "pdeathsig": layer in (UNSHARE, UNSAFE),
    }
    inner = [sys.executable, "-I", "-S", "-c", _TRAMPOLINE, json.dumps(spec), *command]
    if layer in (BUBBLEWRAP, NAMESPACE):
        return _bubblewrap(layer, hide, shown, env) + inner
    if layer == UNSHARE:  # dies with the grader (setpriv), and takes its whole pid namespace along (--kill-child)
        return ["setpriv", "--pdeathsig", "KILL", "--", "unshare", "--net", "--ipc", "--uts", "--pid", "--fork",
                "--kill-child", "--mount-proc", "--", *inner]
    return inner


def _processes() -> dict[int, tuple[int, int, float]]:
    """Every process: pid → (parent pid, uid, CPU seconds of it and its reaped children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            uid = entry.stat().st_uid
        except (OSError, IndexError):
            continue
        table[int(entry.name)] = (int(fields[1]), uid, sum(int(f) for f in fields[11:15]) / ticks)
    return table


def _tree(table: dict[int, tuple[int, int, float]], root: int, uid: int | None) -> list[int]:
    """The processes of one sandbox: ``root``'s descendants, and every process of its private uid."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    if uid is not None:
        found |= {pid for pid, (_, owner, _) in table.items() if owner == uid}
    return sorted(found)


class Sandbox:
    """One sandboxed process holding one submission, for the length of a ``with`` block.

    ``submission`` is the file to import; ``root`` (default: its folder) is the
    submission, copied into a private folder first (:mod:`~gradcheck.grader.submission`).
    """

    def __init__(self, submission: Path, *, limits: Limits = Limits(), hide: Sequence[Path] = (), layer: str | None = None,
                 root: Path | None = None):
        self.submission = Path(submission)
        self.root = Path(root) if root is not None else self.submission.parent
        self.limits = limits
        self.hide = tuple(Path(p).resolve() for p in hide)
        self.layer = layer or best_layer()
        self.process: subprocess.Popen | None = None
        self.names: dict[str, dict] = {}
        self.needle_flavoured = False  # the submission's module imported a needle package
        self.dead: str | None = None
        self.uid = _private_uid() if self.layer in (BUBBLEWRAP, UNSHARE) else None
        self.cpu = 0.0  # CPU seconds the submission has used (its interpreter's start not counted)
        self.waited = 0.0  # wall-clock seconds the grader has waited on it
        self._cpu_at_start = 0.0
        self._folder: Path | None = None

    def __enter__(self) -> "Sandbox":
        self.watchdog = time.monotonic() + self.limits.whole_check
        try:
            self._folder = Path(tempfile.mkdtemp(prefix="gradcheck-sandbox-"))
            return self._start()
        except OSError as exc:  # the grader's machine: no room in TMPDIR, no pipes, no bwrap binary
            self.close()
            raise GraderError(f"the sandbox could not be set up ({type(exc).__name__}: {exc}); check TMPDIR "
                              f"({tempfile.gettempdir()}) and the grader's machine") from None
        except BaseException:
            self.close()
            raise

    def _start(self) -> "Sandbox":
        folder = self._folder
        assert folder is not None
        if self.uid is not None:  # only this sandbox's uid may enter (other sandboxes share /tmp in some layers)
            os.chown(folder, 0, self.uid)
            folder.chmod(0o750)
        else:
            folder.chmod(0o755)
        code = folder / "code"
        code.mkdir(mode=0o755)
        for source in CHILD_SOURCES:
            (code / source.name).write_bytes(source.read_bytes())
            (code / source.name).chmod(0o644)
        try:
            relative = Path(os.path.relpath(os.path.abspath(self.submission), os.path.abspath(self.root)))
            if relative.parts[:1] == ("..",):
                raise ValueError(f"{self.submission} is not inside the submission {self.root}")
            copy = copy_submission(self.root, folder / "submission")
        except (RefusedSubmission, ValueError) as exc:
            raise SubmissionError(f"the submission was refused: {exc}") from None
        if self.layer == UNSHARE:
            blocked = [h for h in self.hide for r in _runtime_paths() if _within(r, h)]
            if blocked:
                raise GraderError(f"the hidden path {blocked[0]} holds the Python the submission runs with; the "
                                  "unshare layer cannot show it again: install bubblewrap, or keep Python outside it")
        self._kill_leftovers()
        requests_r, self._requests = os.pipe()
        self._replies, replies_w = os.pipe()
        self._stderr = open(folder / "stderr", "w+b")
        os.chmod(folder / "stderr", 0o600)
        command = _command(self.layer, self.uid, self.hide, [code, copy], copy, self.limits,
                           [sys.executable, "-I", "-B", str(code / "child.py"), str(copy / relative),
                            str(requests_r), str(replies_w)])
        self.process = subprocess.Popen(
            command, env=CLEAN_ENV, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._stderr, pass_fds=(requests_r, replies_w), start_new_session=True)
        os.close(requests_r)
        os.close(replies_w)
        os.set_blocking(self._requests, False)  # writes wait in select, against the limits
        self._startup()
        self._begin()
        header, _ = self._receive()
        self._end()
        if not header.get("ok"):
            raise SubmissionError(str(header.get("error", "the submission could not be imported"))[:2000])
        names = header.get("names")
        self.names = names if isinstance(names, dict) else {}
        self.needle_flavoured = header.get("needle") is True
        return self

    def _startup(self) -> None:
        """Wait for the sandbox's Python to be ready; failing here is the grader's fault, never the student's."""
        deadline = time.monotonic() + STARTUP_SECONDS
        message = b""
        while len(message) < 1:
            if not select.select([self._replies], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise GraderError(f"the sandbox ({self.layer}) did not start Python within {STARTUP_SECONDS:g} s")
            message = os.read(self._replies, 1)
            if not message:
                code = self.process.wait() if self.process else None
                self._stderr.seek(0)
                lines = self._stderr.read(4000).decode(errors="replace").strip().splitlines()
                raise GraderError(f"the sandbox ({self.layer}) could not start Python: "
                                  + (lines[-1] if lines else _exit_reason(code)))
        self._cpu_at_start = self._cpu_now()
        self._measured = time.monotonic()

    def _cpu_now(self) -> float:
        if self.process is None:
            return 0.0
        table = _processes()
        return sum(table[p][2] for p in _tree(table, self.process.pid, self.uid) if p in table)

    def _begin(self) -> None:
        self._wait_started = time.monotonic()

    def _end(self) -> None:
        self.waited += time.monotonic() - self._wait_started
        self._charge()

    def _charge(self) -> None:
        """Stop the submission once its CPU time or the grader's waiting runs past its limits.

        Reading every process's CPU time costs milliseconds, so it is read only when the
        time since the last reading, on every core, could have used up what is left.
        """
        now = time.monotonic()
        if self.cpu + (now - self._measured) * CORES > self.limits.seconds:
            self.cpu = max(self.cpu, self._cpu_now() - self._cpu_at_start)
            self._measured = now
        if self.cpu > self.limits.seconds:
            self._die(f"time limit of {self.limits.seconds:g} s exceeded (the submission used {self.cpu:.1f} s "
                      "of CPU); it was stopped")
        waited = self.waited + time.monotonic() - self._wait_started
        if waited > self.limits.wait:
            self._die(f"the submission did not answer within {self.limits.wait:g} s (it used {self.cpu:.1f} s of CPU "
                      f"of its {self.limits.seconds:g} s: it was waiting or sleeping); it was stopped")

    def _ready(self, fd: int, write: bool) -> bool:
        """Wait until ``fd`` is ready, charging the submission's time as it goes."""
        while True:
            left = self.limits.wait - self.waited - (time.monotonic() - self._wait_started)
            ready = select.select([] if write else [fd], [fd] if write else [], [], max(0.0, min(POLL, left)))
            if ready[0] or ready[1]:
                return True
            self._charge()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _kill_leftovers(self) -> None:
        """Stop what an earlier grader (killed before it cleaned up) left running under this uid."""
        if self.uid is not None:
            table = _processes()
            _kill([p for p, (_, owner, _) in table.items() if owner == self.uid])

    def close(self) -> None:
        """Kill every process of the submission, reap them, and remove every file the sandbox made."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            for _ in range(3):  # processes forked while the first sweep ran are caught by the next
                table = _processes()
                _kill([p for p in _tree(table, self.process.pid, self.uid) if p != os.getpid()])
            self.process.wait()
            for fd in (self._requests, self._replies):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.process = None
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()
        if self.uid is not None:
            for place in WORLD_WRITABLE:  # what the submission wrote where every uid may write
                try:
                    entries = list(os.scandir(place))
                except OSError:
                    continue
                for entry in entries:
                    try:
                        if entry.stat(follow_symlinks=False).st_uid == self.uid:
                            shutil.rmtree(entry.path) if entry.is_dir(follow_symlinks=False) else os.unlink(entry.path)
                    except OSError:
                        pass
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _read(self, n: int) -> bytes:
        parts, left = [], n
        while left:
            self._ready(self._replies, write=False)
            chunk = os.read(self._replies, min(left, 1 << 20))
            if not chunk:
                code = self.process.wait() if self.process else None
                self._die(_exit_reason(code))
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def _write(self, fd: int, data: memoryview) -> int:
        """Write within the limits: a submission that stops reading cannot stall the grader."""
        self._ready(fd, write=True)
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
        """Send one request and wait (within the submission's limits) for its answer."""
        if self.dead:
            raise SubmissionError(f"the submission's process is no longer running: {self.dead}")
        if time.monotonic() > self.watchdog:
            raise GraderError(f"grading this check took more than {self.limits.whole_check:g} s of wall time, "
                              f"{self.waited:.0f} s of it waiting on the submission: the grader is too slow here")
        self._begin()
        try:
            protocol.send(self._requests, header, arrays, write=self._write)
        except OSError:
            code = self.process.wait() if self.process else None
            self._die(_exit_reason(code))
        reply, blobs = self._receive()
        self._end()
        if not reply.get("ok"):
            raise SubmissionError(str(reply.get("error", "the call failed"))[:2000])
        return reply, blobs

    def module(self) -> "RemoteModule":
        """The submission's top-level names, callable from the grader."""
        return RemoteModule(self)

    def needle_calls(self) -> "RemoteCalls":
        """The calls a needle check makes, run on the submission's package."""
        return RemoteCalls(self)


def _kill(pids: Sequence[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


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

    def _call(self, name: str, args: tuple, kwargs: dict, op: str = "call") -> Any:
        blobs: list[bytes] = []
        header = {"op": op, "handle": self._handle, "name": name,
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
            elif isinstance(original, dict) and after is not None:
                changed = protocol.decode(after, arrays, lambda h, t: None)
                if isinstance(changed, dict):  # a settings dict updated in place (bn_param's running statistics)
                    original.clear()
                    original.update({k: v for k, v in changed.items() if isinstance(k, str)})
        return result

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if self._handle is None:
            raise AttributeError(f"cannot set {name} on the submission's module")
        blobs: list[bytes] = []
        self._box.request({"op": "setattr", "handle": self._handle, "name": name,
                           "value": protocol.encode(value, blobs, _handle_of)}, blobs)

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


class RemoteCalls(needle_calls.Calls):
    """:mod:`gradcheck.grader.needle_calls` run in the sandbox on the submission's needle package: what its
    functions return that is not data (Tensors, nodes) stays there, as handles."""

    def __init__(self, box: Sandbox):
        self._box = box

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: RemoteObject(self._box, None)._call(name, args, kwargs, op="needle")


class RemoteModule:
    """The submission's module as the checks see it: its functions and classes, run in the sandbox."""

    def __init__(self, box: Sandbox):
        self.__name__ = box.submission.stem
        if box.needle_flavoured:  # its functions take needle Tensors, which only the sandbox can build
            self.needle_calls = box.needle_calls()
        for name, info in box.names.items():
            if isinstance(info, dict) and isinstance(name, str) and name.isidentifier():
                setattr(self, name, _remote_callable(box, name, info))


def _remote_callable(box: Sandbox, name: str, info: dict) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return RemoteObject(box, None)._call(name, args, kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = info.get("doc") if isinstance(info.get("doc"), str) else None
    params = [p for p in info.get("params", []) if isinstance(p, str) and p.isidentifier()]
    call.__signature__ = inspect.Signature(
        [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params])
    if info.get("kind") == "class":
        # the constructor's signature, so a check can read which keywords this year's handout takes
        return type(name, (), {"__new__": lambda cls, *a, **k: call(*a, **k), "__signature__": call.__signature__})
    return call
