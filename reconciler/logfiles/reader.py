"""Reading a log as one stream of lines: from its oldest rotated file through the live
one, and on as it grows, across rotations, without a line missed or read twice.

A `LogCursor` holds a logical offset (`layout`). Each read takes the log's lock shared,
finds where that offset is now (the live file, or a rotated file if a rotation moved
the bytes there since the last read) and reads a chunk from there, so a rotation
between two reads changes nothing for the reader. What it cannot find any more (rotated
past the last kept file before it was read: a reader slower than the limits allow) is
reported as a gap, in bytes, and reading goes on from the oldest byte kept.

Other changes to the live file are followed as before: a file that does not exist yet
is read from its start once it appears; one removed or replaced (renamed away by
another tool, a new file under the name) is read to its end, then the new file from its
start; one that shrank below the offset without a rotation (truncated in place) is read
again from its start.

Lines are delivered whole; a trailing partial line waits for its newline, or for
`flush`, or until it is `MAX_LINE_BYTES` long. Each line carries its end offset, which
`marks` turns into a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from reconciler.logfiles import layout

MAX_LINE_BYTES: Final = 1 << 20
READ_CHUNK_BYTES: Final = 1 << 20
_BLOCK: Final = 1 << 16


@dataclass(frozen=True, kw_only=True)
class Chunk:
    """Lines read in one go, each with the logical offset just past it."""

    lines: list[str] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)  # empty unless the cursor keeps them
    gap: int = 0  # bytes rotated away before they could be read


def distinct(paths: Sequence[Path]) -> list[Path]:
    """The paths in order, each file once; files that do not exist yet compare by path."""
    seen: set[tuple[int, int] | str] = set()
    unique: list[Path] = []
    for path in paths:
        try:
            status = path.stat()
            key: tuple[int, int] | str = (status.st_dev, status.st_ino)
        except FileNotFoundError:
            key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _decode(data: bytes) -> list[str]:
    """Lines (`data` without its last newline, split) as text; a CR before a newline
    goes. Whole chunks at a time: a chatty service writes 100k lines a second."""
    if not data:
        return []
    lines = data.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    if lines[-1].endswith("\r"):
        lines[-1] = lines[-1][:-1]  # its newline was cut off by the caller
    return lines


class _View:
    """The log under its shared lock: where its bytes are now."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd
        self.start = layout.read_start(fd) or 0
        self.end = self.start + os.fstat(fd).st_size
        self._rotated: list[layout.Segment] | None = None

    @property
    def rotated(self) -> list[layout.Segment]:
        if self._rotated is None:
            self._rotated = layout.rotated_segments(self.path, self.start)
        return self._rotated

    @property
    def first(self) -> int:
        """The oldest offset still kept."""
        return self.rotated[0].start if self.rotated else self.start

    def read(self, offset: int, count: int) -> bytes:
        """Up to `count` bytes at `offset`, from the one file that holds it (so possibly
        fewer); b"" where no file does."""
        if offset >= self.start:
            return os.pread(self.fd, min(count, self.end - offset), offset - self.start)
        for segment in self.rotated:
            if segment.start <= offset < segment.end:
                flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
                try:
                    fd = os.open(segment.path, flags)
                except FileNotFoundError:
                    return b""
                try:
                    return os.pread(fd, min(count, segment.end - offset), offset - segment.start)
                finally:
                    os.close(fd)
        return b""

    def read_range(self, start: int, end: int) -> bytes:
        parts = []
        while start < end:
            data = self.read(start, end - start)
            if not data:
                break
            parts.append(data)
            start += len(data)
        return b"".join(parts)


class LogCursor:
    """One log, read from a logical offset on; `ends`: each line's end offset too (to
    date it), else `Chunk.ends` stays empty."""

    def __init__(self, path: Path, *, ends: bool = True) -> None:
        self.path = path
        self._with_ends = ends
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._draining = False  # the file was removed or replaced: read it to its end
        self.position = 0
        self._partial = b""
        self._discard_first = False
        self._skipped = 0

    # Opening and positioning

    def open(self) -> bool:
        if self._fd is not None:
            return True
        fd = layout.open_live(self.path, write=False)
        if fd is None:
            return False
        status = os.fstat(fd)
        self._fd, self._identity, self._draining = fd, (status.st_dev, status.st_ino), False
        with layout.shared(fd):
            self.position = _View(self.path, fd).first
        self._partial = b""
        return True

    def seek_end(self) -> None:
        if self._fd is None:
            return
        with layout.shared(self._fd):
            self.position = _View(self.path, self._fd).end

    def seek_tail(self, count: int) -> None:
        """To the start of the last `count` lines (a trailing partial line counts)."""
        if self._fd is None:
            return
        with layout.shared(self._fd):
            view = _View(self.path, self._fd)
            self.position = _tail_start(view, count)

    def seek_at_least(self, offset: int) -> None:
        """Forward to the first line that ends after `offset` (for `--since`)."""
        if self._fd is None or offset <= self.position:
            return
        with layout.shared(self._fd):
            view = _View(self.path, self._fd)
            offset = min(offset, view.end)
            self.position = offset
            self._discard_first = offset > view.first and view.read(offset - 1, 1) != b"\n"

    # Reading

    def read(self) -> Chunk:
        """The lines completed since the last read, one chunk's worth (`behind` says
        whether there is more)."""
        if self._fd is None and not self.open():
            return Chunk()
            # A file that appears after the reader started is read from its start.
        assert self._fd is not None
        if not self._draining and not layout.names_descriptor(self.path, self._fd):
            self._draining = True
        if self._draining:
            return self._drain()
        with layout.shared(self._fd):
            view = _View(self.path, self._fd)
            prefix_lines: list[str] = []
            prefix_ends: list[int] = []
            if self.position > view.end:
                # Shrank without a rotation: truncated in place; read it again.
                prefix_lines, prefix_ends = self._flush_partial()
                self.position = view.start
            gap = 0
            if self.position < view.first:
                # Rotated away unread. What is kept may start inside a line: that part
                # is shown all the same, as a line of its own.
                gap = view.first - self.position
                prefix_lines, prefix_ends = self._flush_partial()
                self.position = view.first
            start = self.position
            data = view.read(start, READ_CHUNK_BYTES)
        chunk = self._lines(start, data)
        return Chunk(
            lines=prefix_lines + chunk.lines, ends=prefix_ends + chunk.ends, gap=gap + chunk.gap
        )

    def _drain(self) -> Chunk:
        """Read what is left of a file no longer at the path, then let it go: the next
        read opens whatever the path names now, from its start."""
        assert self._fd is not None
        view = _View(self.path, self._fd)
        start = self.position
        data = view.read(start, READ_CHUNK_BYTES) if start >= view.start else b""
        chunk = self._lines(start, data)
        if data:
            return chunk
        lines, ends = self._flush_partial()
        self.close()
        return Chunk(lines=chunk.lines + lines, ends=chunk.ends + ends)

    def _lines(self, start: int, data: bytes) -> Chunk:
        self.position = start + len(data)
        buffered = self._partial + data
        base = start - len(self._partial)
        cut = buffered.rfind(b"\n") + 1
        complete, self._partial = buffered[:cut], buffered[cut:]
        lines = _decode(complete[:-1]) if complete else []
        ends = []
        if self._with_ends:
            offset = base
            for line in complete[:-1].split(b"\n") if complete else []:
                offset += len(line) + 1
                ends.append(offset)
        if len(self._partial) >= MAX_LINE_BYTES:
            lines += _decode(self._partial)
            ends += [self.position] if self._with_ends else []
            self._partial = b""
        if self._discard_first and lines:
            self._discard_first = False
            lines, ends = lines[1:], ends[1:]
        return Chunk(lines=lines, ends=ends)

    def _flush_partial(self) -> tuple[list[str], list[int]]:
        partial, self._partial = self._partial, b""
        if not partial or self._discard_first:
            self._discard_first = False
            return [], []
        return _decode(partial), [self.position] if self._with_ends else []

    @property
    def behind(self) -> bool:
        """More was written than read: the next read need not wait."""
        if self._fd is None:
            return False
        if self._draining:
            return True
        with layout.shared(self._fd):
            return _View(self.path, self._fd).end > self.position

    def flush(self) -> Chunk:
        """The unfinished last line, if any, as a line of its own."""
        lines, ends = self._flush_partial()
        return Chunk(lines=lines, ends=ends)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def end(self) -> int:
        """The offset just past the last byte written so far."""
        if self._fd is None:
            return self.position
        with layout.shared(self._fd):
            return _View(self.path, self._fd).end

    def lines(self, *, flush: bool = True) -> Iterator[Chunk]:
        """Every chunk from the position to the end the log has now (not what is written
        meanwhile: a chatty service would keep it going), then, with `flush`, the
        unfinished line (without, it waits for the next read)."""
        if not self.open():
            return
        end = self.end()
        while self.position < end and self._fd is not None:
            before = self.position
            chunk = self.read()
            if chunk.lines or chunk.gap:
                yield chunk
            if self.position == before:
                break
        if not flush:
            return
        last = self.flush()
        if last.lines:
            yield last


def _tail_start(view: _View, count: int) -> int:
    """The offset where the last `count` lines of the stream start, reading backwards a
    block at a time through the files (a 1 GB log costs a few blocks, not a gigabyte)."""
    end = view.end
    if count <= 0:
        return end
    first = view.first
    newlines = 0
    position = end
    while position > first:
        step = min(_BLOCK, position - first)
        block = view.read_range(position - step, position)
        if len(block) < step:
            return position  # a hole in what is kept: start after it
        # A newline that ends the stream closes the last line; it starts no new one.
        if position == end and block.endswith(b"\n"):
            newlines -= 1
        index = len(block)
        while (index := block.rfind(b"\n", 0, index)) >= 0:
            newlines += 1
            if newlines == count:
                return position - step + index + 1
        position -= step
    return first
