"""Is a file held open for writing by some process? Asked of `/proc`, as `fuser` does.

Why this exists: a save is finished when its writer closes the file (`saves`). The
inotify events say when *a* write handle was closed, but not whether another is still
open (a shell's `cat > Orchfile` holds its handle between the lines a person types), and
a file renamed in from another folder comes with no close event at all. Only the
kernel's table of open files knows; `/proc/<pid>/fd` shows it, and `fdinfo` says each
handle's access mode.

Processes we may not inspect (another user's, without root) are skipped: the caller
bounds its wait anyway.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

PROC: Final = Path("/proc")
_WRITE_MODES: Final = (os.O_WRONLY, os.O_RDWR)


def held_for_writing(path: Path, *, proc: Path = PROC) -> bool:
    """True when some process has `path` open with write access."""
    try:
        target = os.stat(path)
    except OSError:
        return False
    wanted = (target.st_dev, target.st_ino)
    try:
        processes = [entry.name for entry in os.scandir(proc) if entry.name.isdigit()]
    except OSError:
        return False
    return any(_writes(proc / pid, wanted) for pid in processes)


def _writes(process: Path, wanted: tuple[int, int]) -> bool:
    try:
        handles = list(os.scandir(process / "fd"))
    except OSError:
        return False
    for handle in handles:
        try:
            opened = os.stat(handle.path)
        except OSError:
            continue
        if (opened.st_dev, opened.st_ino) == wanted and _write_access(process, handle.name):
            return True
    return False


def _write_access(process: Path, fd: str) -> bool:
    try:
        info = (process / "fdinfo" / fd).read_text()
    except OSError:
        return False
    for line in info.splitlines():
        if line.startswith("flags:"):
            flags = int(line.split()[1], 8)
            return (flags & os.O_ACCMODE) in _WRITE_MODES
    return False


def ready(path: Path) -> bool:
    """A save of `path` has finished: the file exists and nobody is writing it."""
    return path.exists() and not held_for_writing(path)
