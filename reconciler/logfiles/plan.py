"""What a rotation does, and when to look at a log again. Pure.

A rotation is due when the live file has reached `max_size`. It cuts the live file's
head at `cut`: the largest multiple of the filesystem block below the file's size,
because `FALLOC_FL_COLLAPSE_RANGE` removes whole blocks and never the file's last byte
(or, where the filesystem cannot collapse, the whole file: `whole`). Before the cut, the
head is copied into rotated files of at most `max_size` each, newest first: `<log>.1`
ends where the live file now starts. The rotated files already there move up by as many
places as pieces were made, and whatever would go past `max_files - 1` is removed, as is
a head too long for the rotated files to hold (a log that grew far past its limit while
no one was checking it). A cut may fall inside a line: `<log>.1` then ends with the first
part of that line and the live file starts with the rest; read in order, the files are
exactly the stream the service wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.model.log_limits import LogLimits


@dataclass(frozen=True, kw_only=True)
class Piece:
    """Bytes [start, end) of the live file, copied to `<log>.<index>`."""

    start: int
    end: int
    index: int


@dataclass(frozen=True, kw_only=True)
class Rotation:
    cut: int  # bytes taken off the live file's head; 0: nothing is cut
    pieces: tuple[Piece, ...] = ()
    # (from, to) renames of rotated files, in an order that overwrites nothing.
    moves: tuple[tuple[int, int], ...] = ()
    removals: tuple[int, ...] = ()

    @property
    def dropped(self) -> int:
        """Bytes of the cut head that no rotated file keeps (beyond the limits)."""
        kept = sum(piece.end - piece.start for piece in self.pieces)
        return self.cut - kept


def plan_rotation(
    *,
    size: int,
    block: int,
    limits: LogLimits,
    rotated: Iterable[int],
    whole: bool = False,
) -> Rotation | None:
    """The rotation of a live file of `size` bytes with rotated files `rotated` (their
    indexes) beside it; None when none is due. Rotated files beyond what `limits` keep
    (the limits were lowered) are removed even when no cut is due."""
    existing = sorted(set(rotated), reverse=True)
    keep = limits.rotated_files
    cut = _cut(size, block, whole) if size >= limits.max_size else 0
    if cut <= 0:
        surplus = tuple(index for index in existing if index > keep)
        return Rotation(cut=0, removals=surplus) if surplus else None
    pieces = []
    end = cut
    for index in range(1, keep + 1):
        if end <= 0:
            break
        start = max(0, end - limits.max_size)
        pieces.append(Piece(start=start, end=end, index=index))
        end = start
    shift = len(pieces)
    moves = tuple((index, index + shift) for index in existing if index + shift <= keep)
    removals = tuple(index for index in existing if index + shift > keep)
    return Rotation(cut=cut, pieces=tuple(pieces), moves=moves, removals=removals)


def _cut(size: int, block: int, whole: bool) -> int:
    if whole:
        return size
    return (size - 1) // block * block


def next_check(
    *, size: int, rate: float, limits: LogLimits, period: float, shortest: float
) -> float:
    """Seconds until a log growing `rate` bytes a second should be looked at again:
    `period` for a quiet one, sooner for one that would otherwise pass its limit by
    much before then (half the time it needs to reach it, never below `shortest`)."""
    if size >= limits.max_size:
        return shortest
    if rate <= 0:
        return period
    return max(shortest, min(period, (limits.max_size - size) / rate / 2))
