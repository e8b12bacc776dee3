"""Reading logs: tail reads the end of a service's log files; follow delivers what is
appended, across rotations in place, renames and truncations."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from reconciler.logfiles.reader import MAX_LINE_BYTES, READ_CHUNK_BYTES
from reconciler.logfiles.streams import Lines, LogSet, follow

WAIT = 5.0


def tail(paths: list[Path], n: int) -> list[str]:
    logs = LogSet([("web", paths)], dated=False)
    logs.position(tail=n)
    return [text for run in logs.history() for text in run.texts]


def read_all(paths: list[Path]) -> list[str]:
    logs = LogSet([("web", paths)], dated=False)
    logs.position()
    return [text for run in logs.history() for text in run.texts]


def write(path: Path, text: str | bytes, mode: str = "a") -> None:
    data = text.encode() if isinstance(text, str) else text
    with path.open(mode + "b") as handle:
        handle.write(data)


# tail


def test_tail_returns_the_last_n_lines(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, "".join(f"line {i}\n" for i in range(100)))
    assert tail([log], 3) == ["line 97", "line 98", "line 99"]


def test_tail_of_a_short_file_returns_all_of_it(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, "a\nb\n")
    assert tail([log], 10) == ["a", "b"]


def test_tail_counts_a_last_line_without_a_newline(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, "a\nb\nc")
    assert tail([log], 2) == ["b", "c"]


def test_tail_keeps_empty_lines(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, "a\n\n\nb\n")
    assert tail([log], 3) == ["", "", "b"]


def test_tail_of_zero_lines_or_an_empty_file_is_nothing(tmp_path: Path) -> None:
    log, empty = tmp_path / "out.log", tmp_path / "empty.log"
    write(log, "a\n")
    write(empty, "")
    assert tail([log], 0) == []
    assert tail([empty], 5) == []


def test_tail_of_a_file_not_yet_written_is_nothing(tmp_path: Path) -> None:
    assert tail([tmp_path / "missing.log"], 5) == []


def test_tail_prints_stdout_then_stderr(tmp_path: Path) -> None:
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    write(out, "o1\no2\no3\n")
    write(err, "e1\ne2\n")
    assert tail([out, err], 2) == ["o2", "o3", "e1", "e2"]


def test_tail_shows_a_file_named_for_both_streams_once(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    write(log, "a\nb\n")
    assert tail([log, log], 5) == ["a", "b"]


def test_tail_shows_a_file_reached_through_a_symlink_once(tmp_path: Path) -> None:
    log, link = tmp_path / "service.log", tmp_path / "link.log"
    write(log, "a\n")
    link.symlink_to(log)
    assert tail([log, link], 5) == ["a"]


def test_tail_finds_lines_longer_than_a_read_block(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    long = "x" * 200_000
    write(log, f"first\n{long}\nlast\n")
    assert tail([log], 2) == [long, "last"]
    assert tail([log], 3) == ["first", long, "last"]


def test_tail_strips_carriage_returns_and_replaces_bad_utf8(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, b"dos\r\nbad \xff byte\n")
    assert tail([log], 2) == ["dos", "bad \ufffd byte"]


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
def test_tail_of_a_1_gb_log_reads_only_its_end(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    with log.open("wb") as handle:
        handle.truncate(1 << 30)
        handle.seek(1 << 30)
        handle.write(b"a\nb\nc\n")

    def bytes_read() -> int:
        fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
        return int(fields["rchar"])

    before = bytes_read()
    assert tail([log], 2) == ["b", "c"]
    assert bytes_read() - before < 1 << 20


def test_read_all_streams_every_line_of_stdout_then_stderr(tmp_path: Path) -> None:
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    write(out, "o1\no2")
    write(err, "e1\r\n")
    assert list(read_all([out, err, out, tmp_path / "missing"])) == ["o1", "o2", "e1"]


# follow


class Collector:
    """The lines follow delivered, with a bounded wait for a condition on them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Event()

    def __call__(self, runs: list[Lines]) -> None:
        self.lines += [text for run in runs for text in run.texts]
        self._changed.set()

    async def until(self, condition: Callable[[list[str]], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not condition(self.lines):
                self._changed.clear()
                await self._changed.wait()

    async def count(self, n: int) -> None:
        await self.until(lambda lines: len(lines) >= n)


@asynccontextmanager
async def following(
    paths: list[Path], *, backlog: int | None = 0
) -> AsyncIterator[tuple[Collector, asyncio.Event]]:
    """Follow in a task; on exit stop it and wait (bounded) until it has returned."""
    collector, stop = Collector(), asyncio.Event()
    logs = LogSet([("web", paths)], dated=False)
    if backlog is None:
        logs.position()
    else:
        logs.position(tail=backlog)
    collector(list(logs.history(flush=False)))
    task = asyncio.create_task(follow(logs, collector, stop=stop, poll_interval=0.01))
    try:
        await asyncio.sleep(0)
        yield collector, stop
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT)


async def started(collector: Collector, marker_file: Path) -> None:
    """Wait until follow has surely passed its first poll: it delivered a marker line."""
    write(marker_file, "marker\n")
    await collector.until(lambda lines: "marker" in lines)


@pytest.mark.asyncio
async def test_follow_delivers_lines_appended_after_it_started(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, "old\n")
    async with following([log]) as (collector, _stop):
        write(log, "new 1\nnew 2\n")
        await collector.count(2)
        assert collector.lines == ["new 1", "new 2"]


@pytest.mark.asyncio
async def test_follow_with_a_backlog_first_prints_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, "a\nb\nc\n")
    async with following([log], backlog=2) as (collector, _stop):
        write(log, "d\n")
        await collector.count(3)
        assert collector.lines == ["b", "c", "d"]


@pytest.mark.asyncio
async def test_follow_with_an_unbounded_backlog_streams_a_big_file_whole(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    count = 3 * (1 << 20) // 10
    write(log, "".join(f"{i:09d}\n" for i in range(count)))
    async with following([log], backlog=None) as (collector, _stop):
        await collector.count(count)
        assert collector.lines[0] == "000000000"
        assert collector.lines[-1] == f"{count - 1:09d}"


@pytest.mark.asyncio
async def test_follow_waits_for_a_file_that_does_not_exist_yet(tmp_path: Path) -> None:
    log, other = tmp_path / "later.log", tmp_path / "other.log"
    write(other, "")
    async with following([other, log]) as (collector, _stop):
        await started(collector, other)
        write(log, "first\nsecond\n")
        await collector.count(3)
        assert collector.lines == ["marker", "first", "second"]


@pytest.mark.asyncio
async def test_follow_reads_a_truncated_file_again_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, "")
    async with following([log]) as (collector, _stop):
        write(log, "a long line before truncation\n")
        await collector.count(1)
        write(log, "short\n", mode="w")
        await collector.count(2)
        assert collector.lines == ["a long line before truncation", "short"]


@pytest.mark.asyncio
async def test_follow_finishes_a_rotated_file_then_reads_its_successor(tmp_path: Path) -> None:
    log, rotated = tmp_path / "out.log", tmp_path / "out.log.1"
    write(log, "")
    async with following([log]) as (collector, _stop):
        await started(collector, log)
        log.rename(rotated)
        write(rotated, "late write to the old file\n")
        write(log, "first line of the new file\n")
        await collector.count(3)
        assert collector.lines == [
            "marker",
            "late write to the old file",
            "first line of the new file",
        ]


@pytest.mark.asyncio
async def test_follow_reads_all_of_a_rotated_file_even_beyond_one_read_chunk(
    tmp_path: Path,
) -> None:
    log, rotated = tmp_path / "out.log", tmp_path / "out.log.1"
    write(log, "")
    count = 2 * READ_CHUNK_BYTES // 10
    async with following([log]) as (collector, _stop):
        await started(collector, log)
        log.rename(rotated)
        write(rotated, "".join(f"{i:09d}\n" for i in range(count)))
        write(log, "new\n")
        await collector.until(lambda lines: "new" in lines)
        assert collector.lines[1:] == [*(f"{i:09d}" for i in range(count)), "new"]


@pytest.mark.asyncio
async def test_follow_keeps_reading_a_file_renamed_away_until_it_is_replaced(
    tmp_path: Path,
) -> None:
    log = tmp_path / "out.log"
    write(log, "")
    async with following([log]) as (collector, _stop):
        await started(collector, log)
        with log.open("ab") as writer:
            log.rename(tmp_path / "out.log.1")
            writer.write(b"still writing\n")
            writer.flush()
            await collector.count(2)
        assert collector.lines == ["marker", "still writing"]


@pytest.mark.asyncio
async def test_follow_shows_a_file_named_for_both_streams_once(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    write(log, "")
    async with following([log, log]) as (collector, stop):
        write(log, "once\n")
        await collector.count(1)
        stop.set()
    assert collector.lines == ["once"]


@pytest.mark.asyncio
async def test_follow_reads_stdout_and_stderr_when_they_differ(tmp_path: Path) -> None:
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    write(out, "")
    write(err, "")
    async with following([out, err]) as (collector, _stop):
        write(err, "to stderr\n")
        write(out, "to stdout\n")
        await collector.count(2)
        assert sorted(collector.lines) == ["to stderr", "to stdout"]


@pytest.mark.asyncio
async def test_follow_holds_a_partial_line_until_its_newline(tmp_path: Path) -> None:
    log, marker = tmp_path / "out.log", tmp_path / "marker.log"
    write(log, "")
    write(marker, "")
    async with following([log, marker]) as (collector, _stop):
        write(log, "hel")
        await started(collector, marker)
        assert collector.lines == ["marker"]
        write(log, "lo\n")
        await collector.count(2)
        assert collector.lines == ["marker", "hello"]


@pytest.mark.asyncio
async def test_a_line_longer_than_the_limit_is_delivered_in_pieces(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, "")
    async with following([log]) as (collector, _stop):
        write(log, "y" * (MAX_LINE_BYTES + 10))
        await collector.count(1)
        assert collector.lines == ["y" * MAX_LINE_BYTES]
    assert collector.lines == ["y" * MAX_LINE_BYTES, "y" * 10]


@pytest.mark.asyncio
async def test_stopping_delivers_what_was_written_before_and_flushes_partial_lines(
    tmp_path: Path,
) -> None:
    log = tmp_path / "out.log"
    write(log, "")
    collector, stop = Collector(), asyncio.Event()
    logs = LogSet([("web", [log])], dated=False)
    logs.position(tail=0)
    task = asyncio.create_task(follow(logs, collector, stop=stop, poll_interval=60.0))
    await asyncio.sleep(0)
    write(log, "complete\npartial")
    stop.set()
    await asyncio.wait_for(task, WAIT)
    assert collector.lines == ["complete", "partial"]


@pytest.mark.asyncio
async def test_follow_returns_promptly_when_stopped_during_a_long_poll_interval(
    tmp_path: Path,
) -> None:
    log = tmp_path / "out.log"
    write(log, "")
    stop = asyncio.Event()
    logs = LogSet([("web", [log])], dated=False)
    task = asyncio.create_task(follow(logs, Collector(), stop=stop, poll_interval=3600.0))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, WAIT)
    assert task.done()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux /proc/self/fd")
@pytest.mark.asyncio
async def test_follow_closes_its_files_when_cancelled(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    write(log, "")
    before = open_fds()
    logs = LogSet([("web", [log])], dated=False)
    logs.position()
    task = asyncio.create_task(
        follow(logs, Collector(), stop=asyncio.Event(), poll_interval=3600.0)
    )
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert open_fds() == before
