"""A submission is its own regular files: copied into a private folder before anything runs.

The sandbox mounts only this copy, never a path the submission names, so a
symlink or hard link cannot bring the answer key (or any other file) into the
sandbox. Anything that is not a plain file or folder is refused with its reason.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

MAX_FILES = 2000
MAX_BYTES = 256 << 20  # 256 MiB: far more than any homework, far less than a disk


class RefusedSubmission(Exception):
    """The submission holds something that is not its own regular file; the message says what."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def copy_submission(source: Path, target: Path) -> Path:
    """Copy the regular files and folders under ``source`` into ``target`` (created, world-readable).

    Raises :class:`RefusedSubmission` for a symbolic link, a hard link to a file
    outside the submission, a device, a FIFO or a socket, and for a submission over
    :data:`MAX_FILES` files or :data:`MAX_BYTES` bytes. Files are read through
    descriptors opened without following links, so nothing can be swapped in
    between the check and the copy.
    """
    source = Path(source)
    top = os.lstat(source)
    if stat.S_ISLNK(top.st_mode):
        raise RefusedSubmission(f"the submission folder {source.name} is a symbolic link; submit the folder itself")
    if not stat.S_ISDIR(top.st_mode):
        raise RefusedSubmission(f"the submission {source} is not a folder")
    target.mkdir(mode=0o755)
    links: dict[tuple[int, int], list[str]] = {}
    files = size = 0
    for folder, dirs, names in os.walk(source, followlinks=False):
        relative = Path(folder).relative_to(source)
        for name in sorted(dirs):
            where = relative / name
            mode = os.lstat(Path(folder) / name).st_mode
            if not stat.S_ISDIR(mode):
                raise RefusedSubmission(f"{where} is {_kind(mode)}; a submission holds only its own files")
            (target / where).mkdir(mode=0o755)
        for name in sorted(names):
            where = relative / name
            mode = os.lstat(Path(folder) / name).st_mode
            if not stat.S_ISREG(mode):  # never open a device or a FIFO, even to look at it
                raise RefusedSubmission(f"{where} is {_kind(mode)}; a submission holds only its own files")
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
            try:
                handle = os.open(Path(folder) / name, flags)
            except OSError as exc:
                raise RefusedSubmission(f"{where} could not be read ({exc.strerror})") from None
            with os.fdopen(handle, "rb") as reader:
                info = os.fstat(reader.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise RefusedSubmission(f"{where} is {_kind(info.st_mode)}; a submission holds only its own files")
                files, size = files + 1, size + info.st_size
                if files > MAX_FILES or size > MAX_BYTES:
                    raise RefusedSubmission(f"the submission holds more than {MAX_FILES} files or "
                                            f"{MAX_BYTES >> 20} MiB; submit only the files the assignment asks for")
                if info.st_nlink > 1:
                    links.setdefault((info.st_dev, info.st_ino), []).append(str(where))
                with open(target / where, "xb") as writer:
                    shutil.copyfileobj(reader, writer)
                os.chmod(target / where, 0o644)
    for (device, inode), names in links.items():
        if os.stat(source / names[0]).st_nlink > len(names):
            raise RefusedSubmission(f"{names[0]} is a hard link to a file outside the submission; "
                                    "submit a copy of the file instead")
    return target
