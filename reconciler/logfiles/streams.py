"""Several logs read together, as `logs` shows them: one service's stdout and stderr,
or every service's.

History (what is there when reading starts) is merged by time: each line is dated by
its log's marks (`marks.Dater`), and lines of equal time keep the order of the logs
(stdout before stderr, services in the Orchfile's order). Following then delivers each
log's new lines as they come, a poll at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.logfiles.marks import Dater
from reconciler.logfiles.reader import Chunk, LogCursor, distinct


@dataclass(frozen=True, kw_only=True)
class LogLine:
    label: str  # whose (a service's name)
    text: str
    at_ns: int  # when it was written, as far as the marks tell; 0 when not asked


@dataclass(frozen=True, kw_only=True)
class Gap:
    label: str
    path: Path
    size: int  # bytes rotated away before they were read


@dataclass(frozen=True, kw_only=True)
class Batch:
    lines: list[LogLine]
    gaps: list[Gap]


class _Source:
    def __init__(self, label: str, path: Path, rank: int) -> None:
        self.label = label
        self.rank = rank
        self.cursor = LogCursor(path)
        self.dater = Dater(path)

    def dated(self, chunk: Chunk, *, dated: bool) -> list[LogLine]:
        times = self.dater.dates(chunk.ends) if dated else [0] * len(chunk.lines)
        return [
            LogLine(label=self.label, text=text, at_ns=at)
            for text, at in zip(chunk.lines, times, strict=True)
        ]


class LogSet:
    """Logs labelled by their services; each path read once, in the order given."""

    def __init__(self, logs: Sequence[tuple[str, Sequence[Path]]], *, dated: bool) -> None:
        self._sources: list[_Source] = []
        for label, paths in logs:
            for path in distinct(paths):
                self._sources.append(_Source(label, path, len(self._sources)))
        self._dated = dated

    def position(self, *, tail: int | None = None, since_ns: int | None = None) -> None:
        """Where history starts: the oldest byte kept, the last `tail` lines of each log,
        or the first line written at `since_ns` or later (both: the later)."""
        for source in self._sources:
            cursor = source.cursor
            if not cursor.open():
                continue
            if tail is not None:
                cursor.seek_tail(tail)
            if since_ns is not None:
                if source.dater.modified() < since_ns:
                    cursor.seek_end()
                else:
                    cursor.seek_at_least(source.dater.since(since_ns))

    def history(self, *, flush: bool = True) -> Iterator[LogLine]:
        """Every line from the positions to the logs' ends as they are now, by time;
        unfinished last lines too with `flush` (without, `poll` delivers them later)."""
        if len(self._sources) == 1 and not self._dated:
            yield from self._lines_of(self._sources[0], dated=False, flush=flush)
            return
        streams = [
            (
                (line.at_ns, source.rank, line)
                for line in self._lines_of(source, dated=True, flush=flush)
            )
            for source in self._sources
        ]
        for _, _, line in heapq.merge(*streams, key=lambda item: item[:2]):
            yield line

    def _lines_of(self, source: _Source, *, dated: bool, flush: bool) -> Iterator[LogLine]:
        for chunk in source.cursor.lines(flush=flush):
            yield from source.dated(chunk, dated=dated)

    def poll(self) -> Batch:
        """The lines completed in each log since the last poll, a chunk of each."""
        lines: list[LogLine] = []
        gaps: list[Gap] = []
        for source in self._sources:
            chunk = source.cursor.read()
            if chunk.gap:
                gaps.append(Gap(label=source.label, path=source.cursor.path, size=chunk.gap))
            lines += source.dated(chunk, dated=self._dated)
        return Batch(lines=lines, gaps=gaps)

    @property
    def behind(self) -> bool:
        return any(source.cursor.behind for source in self._sources)

    def flush(self) -> list[LogLine]:
        """Each log's unfinished last line, as a line."""
        lines: list[LogLine] = []
        for source in self._sources:
            lines += source.dated(source.cursor.flush(), dated=self._dated)
        return lines

    def close(self) -> None:
        for source in self._sources:
            source.cursor.close()


async def follow(
    logs: LogSet,
    out: Callable[[list[LogLine]], None],
    *,
    stop: asyncio.Event,
    poll_interval: float,
    on_gap: Callable[[Gap], None] = lambda gap: None,
    between: Callable[[], None] = lambda: None,
) -> None:
    """Send each batch of new lines to `out` until `stop` is set, then the unfinished
    last lines; `between` runs between polls (it keeps the logs: `keeper`).

    Each poll reads a chunk of each log and polls again at once while one is behind.
    After `stop`, one last poll delivers what was written just before it; a writer that
    never pauses cannot hold it open. The logs are closed at the end, however it ends.
    """
    try:
        while True:
            batch = logs.poll()
            for gap in batch.gaps:
                on_gap(gap)
            if batch.lines:
                out(batch.lines)
            if stop.is_set():
                break
            between()
            if logs.behind:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_interval)
        if last := logs.flush():
            out(last)
    finally:
        logs.close()
