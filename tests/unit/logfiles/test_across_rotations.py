"""Reading a log whose head is rotated away in place: history from the oldest rotated
file on, the last lines across files, following with no line missed or doubled while a
writer appends and a keeper rotates, a gap reported when the reader is too slow, and
lines dated by the marks (`--timestamps`, `--since`)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from reconciler.logfiles import layout, marks
from reconciler.logfiles.keeper import LogKeeper
from reconciler.logfiles.rotate import rotate
from reconciler.logfiles.streams import Gap, Lines, LogSet, follow
from reconciler.model.log_limits import LogLimits

K = 1 << 10
LIMITS = LogLimits(max_size=64 * K, max_files=3)


def numbered(start: int, stop: int) -> bytes:
    return b"".join(b"line %08d\n" % i for i in range(start, stop))


def texts(start: int, stop: int) -> list[str]:
    return [f"line {i:08d}" for i in range(start, stop)]


def written_and_rotated(log: Path, stop: int, limits: LogLimits = LIMITS) -> None:
    """`stop` numbered lines appended in slices, rotating after each slice."""
    step = 2_000
    for start in range(0, stop, step):
        with log.open("ab") as writer:
            writer.write(numbered(start, min(stop, start + step)))
        rotate(log, limits)


def history(log: Path, *, tail: int | None = None) -> list[str]:
    logs = LogSet([("web", [log])], dated=False)
    logs.position(tail=tail)
    return [text for run in logs.history() for text in run.texts]


def test_history_starts_at_the_oldest_rotated_file_and_ends_in_the_live_one(
    tmp_path: Path,
) -> None:
    log = tmp_path / "web.log"
    written_and_rotated(log, 10_000)  # 140 K: one rotation at least
    assert layout.rotated_indexes(log)
    lines = history(log)
    numbers = [int(line.removeprefix("line ")) for line in lines[1:]]
    assert numbers == list(range(numbers[0], 10_000))
    # What is kept starts where a cut fell: possibly inside a line, shown as it is.
    assert f"line {numbers[0] - 1:08d}".endswith(lines[0])
    assert len("".join(lines)) > 2 * 60 * K


def test_the_last_lines_may_span_a_rotated_file_and_the_live_one(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    written_and_rotated(log, 10_000)
    live_lines = log.read_bytes().count(b"\n")
    wanted = live_lines + 500
    assert history(log, tail=wanted) == texts(10_000 - wanted, 10_000)


@pytest.mark.asyncio
async def test_following_misses_no_line_and_doubles_none_while_a_keeper_rotates(
    tmp_path: Path,
) -> None:
    log = tmp_path / "web.log"
    layout.prepare(log)
    count = 150_000  # 2 MB through 64 K files: about 30 rotations
    done = threading.Event()

    def write() -> None:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND)
        try:
            for i in range(count):
                os.write(fd, b"line %08d\n" % i)
        finally:
            os.close(fd)
            done.set()

    # Many files: a window wide enough that a follower sharing the GIL with the writer
    # never falls out of it (that is the gap test's business, not this one's).
    keeper = LogKeeper(lambda: LogLimits(max_size=64 * K, max_files=20))
    rotations: list[int] = []
    received: list[str] = []
    gaps: list[Gap] = []
    stop = asyncio.Event()

    def keep() -> None:
        before = layout.read_start(log) or 0
        keeper.round([log])
        if (layout.read_start(log) or 0) != before:
            rotations.append(1)
        if done.is_set() and not logs.behind:
            stop.set()

    def out(runs: list[Lines]) -> None:
        received.extend(text for run in runs for text in run.texts)

    logs = LogSet([("web", [log])], dated=False)
    logs.position()
    writer = threading.Thread(target=write)
    writer.start()
    await asyncio.wait_for(
        follow(logs, out, stop=stop, poll_interval=0.005, on_gap=gaps.append, between=keep),
        timeout=60,
    )
    writer.join()
    assert len(rotations) > 10
    assert gaps == []
    assert received == texts(0, count)


def test_a_reader_slower_than_the_limits_is_told_how_much_it_missed(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_bytes(numbered(0, 1_000))
    logs = LogSet([("web", [log])], dated=False)
    logs.position()
    first = logs.poll()
    assert [text for run in first.lines for text in run.texts] == texts(0, 1_000)
    # Meanwhile 20 K lines (280 K) are written and rotated through 64 K x 3 files.
    written_and_rotated(log, 20_000)
    with log.open("ab") as writer:
        writer.write(b"")
    kept_from = layout.rotated_segments(log, layout.read_start(log) or 0)[0].start
    batch = logs.poll()
    assert batch.gaps == [Gap(label="web", path=log, size=kept_from - len(numbered(0, 1_000)))]
    rest = [text for run in batch.lines for text in run.texts]
    while logs.behind:
        rest += [text for run in logs.poll().lines for text in run.texts]
    assert rest[-1] == "line 00019999"


def test_a_line_is_dated_by_the_first_mark_at_or_after_its_end(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_bytes(b"one\ntwo\nthree\n")
    for offset, at in ((4, 100), (8, 200)):
        marks.append_mark(log, marks.Mark(offset=offset, at_ns=at))
    os.utime(log, ns=(300, 300))
    logs = LogSet([("web", [log])], dated=True)
    logs.position()
    assert [pair for run in logs.history() for pair in zip(run.texts, run.times, strict=True)] == [
        ("one", 100),
        ("two", 200),
        ("three", 300),  # past the last mark: the file's last write
    ]


def test_since_starts_at_the_first_line_after_the_last_mark_before_it(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_bytes(b"old\nolder\nnew\n")
    marks.append_mark(log, marks.Mark(offset=10, at_ns=1_000))
    os.utime(log, ns=(5_000, 5_000))
    logs = LogSet([("web", [log])], dated=False)
    logs.position(since_ns=2_000)
    assert [text for run in logs.history() for text in run.texts] == ["new"]
    logs = LogSet([("web", [log])], dated=False)
    logs.position(since_ns=6_000)  # after the last write: nothing
    assert list(logs.history()) == []


def test_since_a_mark_in_the_middle_of_a_line_starts_at_the_next_line(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_bytes(b"first line\nsecond\n")
    marks.append_mark(log, marks.Mark(offset=5, at_ns=1_000))
    logs = LogSet([("web", [log])], dated=False)
    logs.position(since_ns=2_000)
    assert [text for run in logs.history() for text in run.texts] == ["second"]


def test_several_logs_are_merged_by_time_ties_in_the_order_given(tmp_path: Path) -> None:
    web, clock_out, clock_err = (tmp_path / name for name in ("web.log", "clock.log", "clock.err"))
    web.write_bytes(b"w1\nw2\n")
    clock_out.write_bytes(b"c1\nc2\n")
    clock_err.write_bytes(b"e1\n")
    for path, points in (
        (web, ((3, 10), (6, 30))),
        (clock_out, ((3, 20), (6, 30))),
        (clock_err, ((3, 10),)),
    ):
        for offset, at in points:
            marks.append_mark(path, marks.Mark(offset=offset, at_ns=at))
    logs = LogSet([("web", [web]), ("clock", [clock_out, clock_err])], dated=True)
    logs.position()
    merged = [
        (run.label, text, at)
        for run in logs.history()
        for text, at in zip(run.texts, run.times, strict=True)
    ]
    assert merged == [
        ("web", "w1", 10),
        ("clock", "e1", 10),
        ("clock", "c1", 20),
        ("web", "w2", 30),
        ("clock", "c2", 30),
    ]


def test_a_keeper_marks_a_growing_log_at_most_once_a_second(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    now = [100.0]
    keeper = LogKeeper(lambda: LIMITS, monotonic=lambda: now[0])
    log.write_bytes(b"a\n")
    keeper.round([log])
    log.write_bytes(b"a\nb\n")
    now[0] += 0.5
    keeper.round([log])  # grew, but within the second
    now[0] += 0.6
    keeper.round([log])
    keeper.round([log])  # nothing new
    assert [mark.offset for mark in marks.read_marks(log)] == [2, 4]
    stamps = [mark.at_ns for mark in marks.read_marks(log)]
    assert stamps[-1] == log.stat().st_mtime_ns


def test_a_keeper_rotates_a_log_at_its_limit_and_looks_again_sooner_when_it_grows_fast(
    tmp_path: Path,
) -> None:
    log = tmp_path / "web.log"
    now = [0.0]
    keeper = LogKeeper(lambda: LIMITS, monotonic=lambda: now[0])
    log.write_bytes(numbered(0, 100))
    assert keeper.round([log]) == pytest.approx(0.1)  # new: soon, to learn its pace
    now[0] += 0.1
    assert keeper.round([log]) == pytest.approx(0.5)  # quiet
    with log.open("ab") as writer:
        writer.write(numbered(100, 3_000))  # 40 K in 0.1 s: 400 K/s
    now[0] += 0.1
    delay = keeper.round([log])
    assert delay < 0.1
    with log.open("ab") as writer:
        writer.write(numbered(3_000, 6_000))
    now[0] += delay
    keeper.round([log])
    assert sorted(layout.rotated_indexes(log)) == [1, 2]  # 80 K cut: 64 K and 16 K
    assert log.stat().st_size < LIMITS.max_size


def test_marks_below_the_oldest_byte_kept_go_and_many_are_thinned() -> None:
    many = [marks.Mark(offset=i * 10, at_ns=i) for i in range(10_000)]
    kept = marks.kept_marks(many, first_offset=50_000)
    assert kept[0].offset > 50_000
    assert len(kept) * 40 <= marks.MAX_BYTES
    assert kept[-100:] == many[-100:]  # recent lines keep their precision


def test_dates_are_never_before_the_write(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    keeper = LogKeeper(lambda: LIMITS)
    before = time.time_ns()
    log.write_bytes(b"x\n")
    keeper.round([log])
    logs = LogSet([("web", [log])], dated=True)
    logs.position()
    (run,) = list(logs.history())
    assert run.times[0] >= before - 10_000_000  # the kernel's file clock is coarse (ticks)
