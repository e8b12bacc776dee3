"""`logs SERVICE [-f] [--tail N]`: a service's stdout and stderr files, read and followed.

A service may send stdout and stderr to one file or to two; a file named twice (by
path, symlink or hard link) is read once, stdout's first. `tail` seeks from the end, so
the last lines of a 1 GB log cost a few blocks, not a gigabyte. `follow` polls: log
files live on any filesystem, and inotify neither sees every one nor survives rotation
on its own. It copes with a file that does not exist yet (read from its start once it
appears), rotation by rename (the old file is finished, then the new one read from its
start) and truncation in place (read again from the start). Lines are delivered whole;
a trailing partial line waits for its newline, or for the stop, or until it is
`MAX_LINE_BYTES` long. Reading is chunked, so following from the start of a huge file
streams it rather than loading it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Final

MAX_LINE_BYTES: Final = 1 << 20
READ_CHUNK_BYTES: Final = 1 << 20
_BLOCK: Final = 1 << 16


def _decode(line: bytes) -> str:
    return line.removesuffix(b"\r").decode("utf-8", errors="replace")


def distinct(paths: Sequence[Path]) -> list[Path]:
    """The paths in order, each file once; files that do not exist yet compare by path."""
    seen: set[tuple[int, int] | str] = set()
    unique: list[Path] = []
    for path in paths:
        try:
            stat = path.stat()
            key: tuple[int, int] | str = (stat.st_dev, stat.st_ino)
        except FileNotFoundError:
            key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _last_lines(handle: BinaryIO, end: int, count: int) -> list[bytes]:
    """The last `count` lines before offset `end`, reading backwards block by block."""
    if count <= 0:
        return []
    blocks: list[bytes] = []
    newlines, position = 0, end
    while position > 0:
        step = min(_BLOCK, position)
        handle.seek(position - step)
        block = handle.read(step)
        # A newline that ends the range closes the last line; it starts no new one.
        if position == end and block.endswith(b"\n"):
            newlines -= 1
        position -= step
        newlines += block.count(b"\n")
        blocks.append(block)
        if newlines >= count:
            break
    lines = b"".join(reversed(blocks)).split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines[-count:]


def tail(paths: Sequence[Path], n: int) -> list[str]:
    """The last `n` lines of each file, stdout's then stderr's; missing files have none."""
    result: list[str] = []
    for path in distinct(paths):
        try:
            with path.open("rb") as handle:
                end = os.fstat(handle.fileno()).st_size
                result += [_decode(line) for line in _last_lines(handle, end, n)]
        except FileNotFoundError:
            continue
    return result


def read_all(paths: Sequence[Path]) -> Iterator[str]:
    """Every line of each file, streamed, stdout's then stderr's."""
    for path in distinct(paths):
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            continue
        with handle:
            for line in handle:
                yield _decode(line.removesuffix(b"\n"))


class _FollowedFile:
    """One path being followed: the open file, how far it was read, its unfinished line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: BinaryIO | None = None
        self._identity: tuple[int, int] | None = None
        self._position = 0
        self._partial = b""

    def start(self, backlog: int | None) -> list[str]:
        """Open the file if it exists, with `backlog` lines of history (None: all)."""
        if not self._open():
            return []
        if backlog is None:
            return self.poll()
        assert self._handle is not None
        end = os.fstat(self._handle.fileno()).st_size
        history = _last_lines(self._handle, end, backlog)
        self._handle.seek(end)
        self._position = end
        return [_decode(line) for line in history]

    def _open(self) -> bool:
        try:
            self._handle = self.path.open("rb")
        except FileNotFoundError:
            return False
        stat = os.fstat(self._handle.fileno())
        self._identity, self._position, self._partial = (stat.st_dev, stat.st_ino), 0, b""
        return True

    def poll(self) -> list[str]:
        """Lines completed since the last poll, following rotation and truncation."""
        if self._handle is None and not self._open():
            return []
        assert self._handle is not None
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            # Renamed away and not yet replaced: the writer may still be writing to it.
            return self._read_new()
        if (stat.st_dev, stat.st_ino) != self._identity:
            lines = self._read_to_end() + self.flush()
            self.close()
            return lines + self.poll()
        if os.fstat(self._handle.fileno()).st_size < self._position:
            lines = self.flush()
            self._handle.seek(0)
            self._position = 0
            return lines + self._read_new()
        return self._read_new()

    def _read_to_end(self) -> list[str]:
        """Everything left in a file that is being let go, however many chunks that is."""
        lines: list[str] = []
        position = -1
        while position != self._position:
            position = self._position
            lines += self._read_new()
        return lines

    def _read_new(self) -> list[str]:
        assert self._handle is not None
        data = self._handle.read(READ_CHUNK_BYTES)
        self._position += len(data)
        pieces = (self._partial + data).split(b"\n")
        self._partial = pieces.pop()
        if len(self._partial) >= MAX_LINE_BYTES:
            pieces.append(self._partial)
            self._partial = b""
        return [_decode(piece) for piece in pieces]

    @property
    def behind(self) -> bool:
        """More was written than read: the next poll need not wait."""
        if self._handle is None:
            return False
        return os.fstat(self._handle.fileno()).st_size > self._position

    def flush(self) -> list[str]:
        """The unfinished last line, if any, as a line of its own."""
        partial, self._partial = self._partial, b""
        return [_decode(partial)] if partial else []

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


async def follow(
    paths: Sequence[Path],
    out: Callable[[str], None],
    *,
    stop: asyncio.Event,
    poll_interval: float,
    backlog: int | None = 0,
) -> None:
    """Send each line appended to the files to `out` until `stop` is set.

    `backlog` lines of each existing file's history come first (0: none, None: all).
    Each poll reads up to `READ_CHUNK_BYTES` per file and polls again at once while a
    file is behind. After `stop`, one last poll delivers what was written just before
    it and unfinished lines are flushed; a writer that never pauses cannot hold it open.
    """
    files = [_FollowedFile(path) for path in distinct(paths)]
    try:
        for followed in files:
            _emit(followed.start(backlog), out)
        while True:
            for followed in files:
                _emit(followed.poll(), out)
            if stop.is_set():
                break
            if any(followed.behind for followed in files):
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_interval)
        for followed in files:
            _emit(followed.flush(), out)
    finally:
        for followed in files:
            followed.close()


def _emit(lines: list[str], out: Callable[[str], None]) -> None:
    for line in lines:
        out(line)
