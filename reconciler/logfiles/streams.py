"""Several logs read together, as `logs` shows them: one service's stdout and stderr,
or every service's.

History (what is there when reading starts) is merged by time: each line is dated by
its log's marks (`marks.Dater`), and lines of equal time keep the order of the logs
(stdout before stderr, services in the Orchfile's order). Following then delivers each
log's new lines as they come, a poll at a time.

Lines travel in runs (`Lines`: one log's consecutive lines), not one object each: a
chatty service writes a hundred thousand lines a second, and `logs -f` must keep up.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.logfiles.marks import Dater
from reconciler.logfiles.reader import Chunk, LogCursor, distinct


@dataclass(frozen=True, kw_only=True)
class Lines:
    """Consecutive lines of one service's log, with when each was written (as far as the
    marks tell) when dates were asked for, else no times."""

    label: str
    texts: list[str]
    times: list[int] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Gap:
    label: str
    path: Path
    size: int  # bytes rotated away before they were read


@dataclass(frozen=True, kw_only=True)
class Batch:
    lines: list[Lines]
    gaps: list[Gap]


class _Source:
    def __init__(self, label: str, path: Path, rank: int, *, dated: bool) -> None:
        self.label = label
        self.rank = rank
        self.cursor = LogCursor(path, ends=dated)
        self.dater = Dater(path)
        self.dated = dated

    def lines(self, chunk: Chunk) -> Lines:
        times = self.dater.dates(chunk.ends) if self.dated else []
        return Lines(label=self.label, texts=chunk.lines, times=times)


class LogSet:
    """Logs labelled by their services; each path read once, in the order given. With
    `dated`, every line carries its time; without, only history is dated, and only where
    it merges several logs."""

    def __init__(self, logs: Sequence[tuple[str, Sequence[Path]]], *, dated: bool) -> None:
        paths = [(label, path) for label, given in logs for path in given]
        unique = distinct([path for _, path in paths])
        labels = {path: label for label, path in reversed(paths)}
        merging = len(unique) > 1
        self._sources = [
            _Source(labels[path], path, rank, dated=dated or merging)
            for rank, path in enumerate(unique)
        ]
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

    def history(self, *, flush: bool = True) -> Iterator[Lines]:
        """Every line from the positions to the logs' ends as they are now, by time;
        unfinished last lines too with `flush` (without, `poll` delivers them later)."""
        if len(self._sources) == 1:
            source = self._sources[0]
            for chunk in source.cursor.lines(flush=flush):
                yield source.lines(chunk)
            return
        streams = [self._dated_lines(source, flush=flush) for source in self._sources]
        merged = heapq.merge(*streams)
        for rank, run in itertools.groupby(merged, key=lambda item: item[1]):
            source = self._sources[rank]
            items = list(run)
            yield Lines(
                label=source.label,
                texts=[text for _, _, text in items],
                times=[at for at, _, _ in items] if self._dated else [],
            )

    @staticmethod
    def _dated_lines(source: _Source, *, flush: bool) -> Iterator[tuple[int, int, str]]:
        for chunk in source.cursor.lines(flush=flush):
            lines = source.lines(chunk)
            yield from zip(
                lines.times,
                itertools.repeat(source.rank, len(lines.texts)),
                lines.texts,
                strict=True,
            )

    def poll(self) -> Batch:
        """The lines completed in each log since the last poll, a chunk of each."""
        lines: list[Lines] = []
        gaps: list[Gap] = []
        for source in self._sources:
            chunk = source.cursor.read()
            if chunk.gap:
                gaps.append(Gap(label=source.label, path=source.cursor.path, size=chunk.gap))
            if chunk.lines:
                lines.append(self._shown(source, chunk))
        return Batch(lines=lines, gaps=gaps)

    def _shown(self, source: _Source, chunk: Chunk) -> Lines:
        found = source.lines(chunk)
        return found if self._dated else Lines(label=found.label, texts=found.texts)

    @property
    def behind(self) -> bool:
        return any(source.cursor.behind for source in self._sources)

    def flush(self) -> list[Lines]:
        """Each log's unfinished last line, as a line."""
        found = []
        for source in self._sources:
            chunk = source.cursor.flush()
            if chunk.lines:
                found.append(self._shown(source, chunk))
        return found

    def close(self) -> None:
        for source in self._sources:
            source.cursor.close()


async def follow(
    logs: LogSet,
    out: Callable[[list[Lines]], None],
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
