"""When a log's stream reached which offset: what `logs --timestamps` and `--since` read.

The writers (the shim, a host service) write bare bytes, with no time. Whoever keeps the
log (`keeper`) appends a *mark* to `<log>.marks` when the stream has grown, at most once
a second: "by this time, the stream had reached this offset". A line is then dated by
the first mark at or after its end, or, past the last mark, by the live file's
modification time (the time of its last write): a line is never dated before it was
written, and at most about a second after, while a keeper runs (`run` for containers,
the supervisor for host services); without one, the next mark is later.

Marks go with the bytes they date: a rotation drops those below the oldest byte kept,
and a file grown past `MAX_BYTES` keeps every other of its older half, so recent lines
stay precise and the file stays small.
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.logfiles.layout import FILE_MODE, marks_path
from reconciler.statedir.files import write_atomically

MAX_BYTES: Final = 128 << 10


@dataclass(frozen=True, kw_only=True, order=True)
class Mark:
    offset: int
    at_ns: int  # Unix time, nanoseconds


def read_marks(log: Path) -> list[Mark]:
    """The log's marks by offset; a line that does not parse is skipped."""
    try:
        text = marks_path(log).read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return []
    found = []
    for line in text.splitlines():
        offset, _, at = line.partition(" ")
        if offset.isdigit() and at.isdigit():
            found.append(Mark(offset=int(offset), at_ns=int(at)))
    found.sort()
    return found


def append_mark(log: Path, mark: Mark) -> None:
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(marks_path(log), flags, FILE_MODE)
    try:
        os.write(fd, f"{mark.offset} {mark.at_ns}\n".encode())
    finally:
        os.close(fd)


def kept_marks(marks: Sequence[Mark], *, first_offset: int) -> list[Mark]:
    """The marks that still date a byte at or after `first_offset`, thinned when there
    are more than fit in `MAX_BYTES`: every other one of the older half goes."""
    kept = [mark for mark in marks if mark.offset > first_offset]
    room = MAX_BYTES // 40  # a mark's line is 20-40 bytes
    while len(kept) > room:
        half = len(kept) // 2
        kept = kept[:half:2] + kept[half:]
    return kept


def compact(log: Path, *, first_offset: int) -> None:
    """Rewrite the marks file with only `kept_marks`; nothing when it has none to drop."""
    path = marks_path(log)
    marks = read_marks(log)
    kept = kept_marks(marks, first_offset=first_offset)
    if len(kept) == len(marks):
        return
    write_atomically(path, "".join(f"{m.offset} {m.at_ns}\n" for m in kept).encode())


def dated_by(marks: Sequence[Mark], end: int) -> int | None:
    """The time (ns) of the first mark at or after offset `end`; None past the last."""
    index = bisect.bisect_left(marks, end, key=lambda mark: mark.offset)
    return marks[index].at_ns if index < len(marks) else None


def offset_at(marks: Sequence[Mark], at_ns: int) -> int:
    """The stream's offset at time `at_ns` as far as the marks know: that of the last
    mark before it (0 before the first): every line written at or after `at_ns` ends
    after it."""
    index = bisect.bisect_left(marks, at_ns, key=lambda mark: mark.at_ns)
    return marks[index - 1].offset if index > 0 else 0


class Dater:
    """Times for a log's lines, by their end offsets: `dated_by` the marks (read again
    when a line is past the last one read and the file changed), else the live file's
    modification time."""

    def __init__(self, log: Path) -> None:
        self._log = log
        self._marks: list[Mark] = []
        self._version: tuple[int, int] | None = None

    def dates(self, ends: Sequence[int]) -> list[int]:
        if ends and (not self._marks or ends[-1] > self._marks[-1].offset):
            self._refresh()
        fallback: int | None = None
        found = []
        for end in ends:
            at = dated_by(self._marks, end)
            if at is None:
                if fallback is None:
                    fallback = self._modified()
                at = fallback
            found.append(at)
        return found

    def since(self, at_ns: int) -> int:
        """`offset_at` with the marks as they are now."""
        self._refresh()
        return offset_at(self._marks, at_ns)

    def _refresh(self) -> None:
        try:
            status = os.stat(marks_path(self._log))
            version: tuple[int, int] | None = (status.st_ino, status.st_size)
        except FileNotFoundError:
            version = None
        if version != self._version:
            self._version = version
            self._marks = read_marks(self._log)

    def modified(self) -> int:
        """When the live file was last written (now, when it is missing)."""
        return self._modified()

    def _modified(self) -> int:
        try:
            return os.stat(self._log).st_mtime_ns
        except FileNotFoundError:
            return time.time_ns()
