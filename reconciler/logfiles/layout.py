"""A log's files on disk: their names and modes, where each starts in the stream, and
the lock that keeps rotations and readers apart.

- `<log>` is the live file, `<log>.1` ... `<log>.N` the rotated ones (`.1` the newest),
  `<log>.marks` the times the stream reached its offsets (`marks`).
- Each file's `user.reconciler.log-start` extended attribute is the logical offset of its
  first byte. A filesystem without user extended attributes gets offsets from the sizes
  alone (a rotated file ends where the next one starts), and a reader cannot tell a
  rotation of the live file from its truncation there.
- A rotation holds an exclusive `flock` on the live file; a reader holds a shared one
  while it reads a chunk, so it never sees a rotation half done. Writers take no lock:
  the shim and a host service append as always.
- Files are made 0600 and directories 0700: a service's output is its owner's (root's)
  alone. A file that exists keeps its mode.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

START_ATTRIBUTE: Final = "user.reconciler.log-start"
MARKS_SUFFIX: Final = ".marks"
FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700
LOCK_TRIES: Final = 20
LOCK_PAUSE: Final = 0.002
_NO_ATTRIBUTES: Final = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENODATA, errno.EPERM)


@dataclass(frozen=True, kw_only=True)
class Segment:
    """Logical bytes [start, start + size) of a log, held by the file at `path`."""

    path: Path
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size


def rotated_path(log: Path, index: int) -> Path:
    return log.with_name(f"{log.name}.{index}")


def marks_path(log: Path) -> Path:
    return log.with_name(log.name + MARKS_SUFFIX)


def rotated_indexes(log: Path) -> list[int]:
    """The indexes of `<log>.N` files beside the live file, in no particular order."""
    prefix = log.name + "."
    try:
        names = os.listdir(log.parent)
    except FileNotFoundError:
        return []
    return [
        int(name[len(prefix) :])
        for name in names
        if name.startswith(prefix) and name[len(prefix) :].isdigit()
    ]


def companions(log: Path) -> list[Path]:
    """Every file of the log but the live one: rotated files, then its marks."""
    return [rotated_path(log, index) for index in sorted(rotated_indexes(log))] + [marks_path(log)]


def make_directory(directory: Path) -> None:
    """`directory` and any missing parent, each made 0700 (existing ones are left)."""
    missing = []
    path = directory
    while not path.exists():
        missing.append(path)
        path = path.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=DIR_MODE)


def prepare(log: Path) -> None:
    """The live file made 0600 (with 0700 folders) before its writer opens it: a writer's
    `O_CREAT` keeps an existing file's mode, and the shim's would be 0644. Whatever is
    there already (a file, `/dev/null`, a pipe) is left as it is."""
    make_directory(log.parent)
    with contextlib.suppress(FileExistsError):
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        os.close(os.open(log, flags, FILE_MODE))


def open_live(log: Path, *, write: bool) -> int | None:
    """The live file's descriptor when it is a regular file (not a pipe, a device or a
    symbolic link: those are not rotated); None when it is missing or not one."""
    flags = (os.O_RDWR if write else os.O_RDONLY) | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOFOLLOW
    try:
        fd = os.open(log, flags)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO, errno.EACCES, errno.EROFS):
            return None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def names_descriptor(log: Path, fd: int) -> bool:
    """Whether `log` still names the file open as `fd` (not removed or replaced)."""
    try:
        seen = os.stat(log, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (seen.st_dev, seen.st_ino) == (held.st_dev, held.st_ino)


@contextlib.contextmanager
def exclusive(fd: int) -> Iterator[bool]:
    """Hold the rotation lock if it can be had within a few milliseconds (readers hold
    it shared for a chunk at a time); yields whether it is held."""
    for _ in range(LOCK_TRIES):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            time.sleep(LOCK_PAUSE)
            continue
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        return
    yield False


@contextlib.contextmanager
def shared(fd: int) -> Iterator[None]:
    """Hold the lock shared: no rotation happens until it is released."""
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def read_start(target: int | Path) -> int | None:
    """The logical offset of a file's first byte; None when it has none recorded."""
    try:
        raw = os.getxattr(target, START_ATTRIBUTE)
    except OSError as error:
        if error.errno in _NO_ATTRIBUTES:
            return None
        raise
    try:
        return int(raw.decode())
    except ValueError:
        return None


def write_start(target: int | Path, offset: int) -> bool:
    """Record a file's logical start; False where the filesystem cannot."""
    try:
        os.setxattr(target, START_ATTRIBUTE, str(offset).encode())
    except OSError as error:
        if error.errno in _NO_ATTRIBUTES:
            return False
        raise
    return True


def rotated_segments(log: Path, live_start: int) -> list[Segment]:
    """The rotated files as segments of the stream, oldest first. Each starts where its
    attribute says (else where the next newer one starts, less its size) and is clipped
    where the next one starts: a rotation interrupted between its copy and its cut
    leaves bytes in two files, and the newer file holds them."""
    segments: list[Segment] = []
    upper = live_start
    for index in sorted(rotated_indexes(log)):
        path = rotated_path(log, index)
        try:
            size = os.stat(path, follow_symlinks=False).st_size
            start = read_start(path)
        except FileNotFoundError:
            continue  # rotated away meanwhile; the caller holds no lock, or lost a race
        if start is None:
            start = upper - size
        size = min(size, upper - start)
        if size <= 0 or start < 0:
            continue
        segments.append(Segment(path=path, start=start, size=size))
        upper = start
    return list(reversed(segments))


def remove_log(log: Path) -> None:
    """The live file and every companion, under the rotation lock so that no rotation in
    progress leaves a rotated file behind."""
    fd = open_live(log, write=False)
    if fd is None:
        for path in companions(log):
            path.unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            if not log.is_dir():
                log.unlink()
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for path in companions(log):
            path.unlink(missing_ok=True)
        log.unlink(missing_ok=True)
    finally:
        os.close(fd)
