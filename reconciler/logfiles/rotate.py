"""A rotation of one log, done in place while its writer keeps appending.

Under the log's exclusive lock: the plan (`plan.plan_rotation`), then the rotated files
moved up, the head's pieces copied out (`copy_file_range`, in the kernel), each with its
logical start, and last the head cut off the live file with
`fallocate(FALLOC_FL_COLLAPSE_RANGE)`. The collapse takes the inode's lock, as every
`O_APPEND` write does, so a write lands wholly before it (and is in the bytes copied, or
after them and stays) or wholly after it: no byte is lost or doubled, and the writer
never notices. The live file's start attribute then moves on by the cut.

Filesystems that cannot collapse (tmpfs, btrfs, NFS...) get copy and truncate instead:
the whole file is copied out, then truncated to nothing. A write that lands between the
last copy and the truncation is lost (a window of microseconds, but a chatty service
loses lines there). Once a filesystem has refused a collapse it is not asked again by
this process.
"""

from __future__ import annotations

import ctypes
import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.logfiles import layout, marks
from reconciler.logfiles.plan import Piece, Rotation, plan_rotation
from reconciler.model.log_limits import LogLimits

FALLOC_FL_COLLAPSE_RANGE: Final = 0x08
_CANNOT_COLLAPSE: Final = (errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS)
_CANNOT_COPY: Final = (errno.EXDEV, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL)
COPY_CHUNK: Final = 1 << 30
# Filesystems (st_dev) that refused a collapse: copy and truncate there.
_truncating: set[int] = set()


@dataclass(frozen=True, kw_only=True)
class Rotated:
    cut: int  # bytes taken off the live file
    kept: int  # of those, bytes now in rotated files
    truncated: bool  # copy and truncate, not collapse: a few bytes may have been lost


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]
    return libc


def collapse(fd: int, length: int) -> None:
    """Remove the first `length` bytes of the file (whole blocks, short of its end)."""
    if _libc().fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, length) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def rotate(log: Path, limits: LogLimits) -> Rotated | None:
    """Rotate the log if it has reached its limit; None when nothing was cut (not due,
    missing, not a regular file, or another process holds the lock)."""
    fd = layout.open_live(log, write=True)
    if fd is None:
        return None
    try:
        with layout.exclusive(fd) as held:
            if not held or not layout.names_descriptor(log, fd):
                return None
            return rotate_held(log, fd, limits)
    finally:
        os.close(fd)


def rotate_held(log: Path, fd: int, limits: LogLimits) -> Rotated | None:
    """`rotate`, for a caller that holds the lock on the live file open as `fd`."""
    status = os.fstat(fd)
    whole = status.st_dev in _truncating
    rotation = plan_rotation(
        size=status.st_size,
        block=max(status.st_blksize, os.fstatvfs(fd).f_frsize),
        limits=limits,
        rotated=layout.rotated_indexes(log),
        whole=whole,
    )
    if rotation is None:
        return None
    _make_room(log, rotation)
    if rotation.cut == 0:
        return None
    start = layout.read_start(fd) or 0
    for piece in rotation.pieces:
        _copy_out(log, fd, piece, logical_start=start + piece.start)
    result = _cut(log, fd, rotation, whole=whole, device=status.st_dev)
    layout.write_start(fd, start + result.cut)
    oldest = layout.rotated_segments(log, start + result.cut)
    marks.compact(log, first_offset=oldest[0].start if oldest else start + result.cut)
    return result


def _make_room(log: Path, rotation: Rotation) -> None:
    for index in rotation.removals:
        layout.rotated_path(log, index).unlink(missing_ok=True)
    for old, new in rotation.moves:
        os.replace(layout.rotated_path(log, old), layout.rotated_path(log, new))


def _copy_out(log: Path, fd: int, piece: Piece, *, logical_start: int) -> None:
    target = layout.rotated_path(log, piece.index)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW
    out = os.open(target, flags, layout.FILE_MODE)
    try:
        _copy_range(fd, out, piece.start, piece.end)
        layout.write_start(out, logical_start)
    finally:
        os.close(out)


def _copy_range(source: int, target: int, start: int, end: int) -> None:
    """Bytes [start, end) of `source` written at `target`'s position: in the kernel, or
    through this process where the filesystem cannot copy."""
    offset = start
    while offset < end:
        try:
            copied = os.copy_file_range(source, target, min(end - offset, COPY_CHUNK), offset)
        except OSError as error:
            if error.errno not in _CANNOT_COPY:
                raise
            data = os.pread(source, min(end - offset, COPY_CHUNK), offset)
            copied = len(data)
            _write_all(target, data)
        if copied == 0:
            break  # the source is shorter than it was: nothing more to copy
        offset += copied


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _cut(log: Path, fd: int, rotation: Rotation, *, whole: bool, device: int) -> Rotated:
    kept = rotation.cut - rotation.dropped
    if not whole:
        try:
            collapse(fd, rotation.cut)
            return Rotated(cut=rotation.cut, kept=kept, truncated=False)
        except OSError as error:
            if error.errno not in _CANNOT_COLLAPSE:
                raise
            _truncating.add(device)
    # What was written after the planned cut goes to the newest rotated file too, until
    # a look finds nothing new, then the file is emptied at once: a write between that
    # look and the truncation is lost.
    copied = rotation.cut
    newest = layout.rotated_path(log, rotation.pieces[0].index) if rotation.pieces else None
    out = (
        os.open(newest, os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW) if newest is not None else None
    )
    try:
        if out is not None:
            os.lseek(out, 0, os.SEEK_END)
        while (size := os.fstat(fd).st_size) > copied:
            if out is not None:
                _copy_range(fd, out, copied, size)
                kept += size - copied
            copied = size
        os.ftruncate(fd, 0)
    finally:
        if out is not None:
            os.close(out)
    return Rotated(cut=copied, kept=kept, truncated=True)
