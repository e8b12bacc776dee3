"""Keeping a set of logs: rotated when they reach their limit, marked as they grow.

Whoever runs keeps the logs: a host service's supervisor its own two (it outlives the
reconciler), and `run` (and, once, `apply`; and `logs -f` while it follows) the
containers' ones, which the shim writes and no one else could rotate. Two keepers of
the same log never rotate it at once (the lock) and either one's rotation is as good.

A round is cheap when nothing is due: one `stat` per log. A log is opened only to
rotate it or to mark it (at most once a second, when it grew). The next round comes
after `PERIOD`, or sooner when a log grows fast enough to pass its limit by much before
then (`plan.next_check`; a log seen for the first time after `LEARN`, to learn its
pace): what a log overshoots its limit by is what its writer writes between two rounds,
`SHORTEST` at least, a `PERIOD` at most (a quiet log that bursts).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.logfiles import layout, marks
from reconciler.logfiles.plan import next_check
from reconciler.logfiles.rotate import rotate_held
from reconciler.model.log_limits import LogLimits

log = logging.getLogger("reconciler")

PERIOD: Final = 0.5
SHORTEST: Final = 0.05
# A log seen for the first time is looked at again this soon, to learn how fast it grows.
LEARN: Final = 0.1
MARK_EVERY: Final = 1.0
# Marks appended between two compactions of a marks file (a few minutes at one a second).
COMPACT_EVERY: Final = 512


@dataclass(kw_only=True)
class _Seen:
    """What the keeper knows of one live file."""

    identity: tuple[int, int]
    size: int
    modified: int  # st_mtime_ns: a write changes it, whatever the size does
    at: float  # monotonic
    rate: float = -1.0  # bytes a second, between the last two rounds; -1: not known yet
    marked_modified: int = -1
    marked_at: float = float("-inf")
    marked_end: int = -1  # the logical offset of the last mark
    appended: int = 0


class LogKeeper:
    def __init__(
        self,
        limits: Callable[[], LogLimits],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits
        self._monotonic = monotonic
        self._seen: dict[Path, _Seen] = {}

    def due(self, logs: Iterable[Path]) -> tuple[list[Path], float]:
        """The logs to rotate or mark now, and the seconds until the next round; only
        `stat`s. Logs not named any more are forgotten."""
        limits = self._limits()
        now = self._monotonic()
        wanted = set(logs)
        for gone in set(self._seen) - wanted:
            del self._seen[gone]
        due: list[Path] = []
        delay = PERIOD
        for path in wanted:
            seen = self._observe(path, now)
            if seen is None:
                continue
            if seen.rate < 0:
                delay = min(delay, LEARN)
            growing = seen.modified != seen.marked_modified and now - seen.marked_at >= MARK_EVERY
            if seen.size >= limits.max_size or growing:
                due.append(path)
            delay = min(
                delay,
                next_check(
                    size=seen.size,
                    rate=max(seen.rate, 0.0),
                    limits=limits,
                    period=PERIOD,
                    shortest=SHORTEST,
                ),
            )
        return sorted(due), delay

    def _observe(self, path: Path, now: float) -> _Seen | None:
        try:
            status = os.stat(path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            self._seen.pop(path, None)
            return None
        if not stat.S_ISREG(status.st_mode):
            self._seen.pop(path, None)
            return None
        identity = (status.st_dev, status.st_ino)
        seen = self._seen.get(path)
        if seen is None or seen.identity != identity:
            seen = self._seen[path] = _Seen(
                identity=identity, size=status.st_size, modified=status.st_mtime_ns, at=now
            )
            return seen
        elapsed = now - seen.at
        if elapsed > 0 and status.st_size >= seen.size:
            seen.rate = (status.st_size - seen.size) / elapsed
        # Smaller: another keeper rotated it; its pace is what it was.
        seen.size, seen.modified, seen.at = status.st_size, status.st_mtime_ns, now
        return seen

    def keep(self, path: Path) -> None:
        """Rotate the log if due, and mark it if it grew: blocking, for a thread."""
        limits = self._limits()
        fd = layout.open_live(path, write=True)
        if fd is None:
            return
        try:
            with layout.exclusive(fd) as held:
                if not held or not layout.names_descriptor(path, fd):
                    return
                rotated = rotate_held(path, fd, limits)
                if rotated is not None:
                    if (seen := self._seen.get(path)) is not None:
                        # Its pace is measured from what is left, not from nothing.
                        seen.size = os.fstat(fd).st_size
                    if rotated.truncated:
                        log.debug("%s: rotated by copy and truncate", path)
                self._mark(path, fd)
        except OSError as error:
            # A log that cannot be kept now (a full disk, a folder removed by `down`)
            # is tried again on the next round; the service is never disturbed.
            log.debug("cannot keep %s: %s", path, error)
        finally:
            os.close(fd)

    def _mark(self, path: Path, fd: int) -> None:
        status = os.fstat(fd)
        start = layout.read_start(fd) or 0
        end = start + status.st_size
        seen = self._seen.get(path)
        if seen is not None:
            seen.marked_modified, seen.marked_at = status.st_mtime_ns, self._monotonic()
            if seen.marked_end == end:
                return
            seen.marked_end = end
            seen.appended += 1
        # The file's modification time: its last write began then, so every byte before
        # `end` was written by that time (a rotation moves it later: still true).
        marks.append_mark(path, marks.Mark(offset=end, at_ns=status.st_mtime_ns))
        if seen is None:
            return
        if seen.appended % COMPACT_EVERY == 0:
            oldest = layout.rotated_segments(path, start)
            marks.compact(path, first_offset=oldest[0].start if oldest else start)

    def round(self, logs: Iterable[Path]) -> float:
        """`due`, then `keep` each: one round, in this thread; seconds to the next."""
        due, delay = self.due(logs)
        for path in due:
            with contextlib.suppress(OSError):
                self.keep(path)
        return delay
