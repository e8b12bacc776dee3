"""A rotation on real files: on this machine's disk (ext4: collapse in place) and on
tmpfs (copy and truncate), alone and under a writer appending as fast as it can."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from reconciler.logfiles import layout
from reconciler.logfiles.rotate import rotate
from reconciler.model.log_limits import LogLimits

K = 1 << 10
SHM = Path("/dev/shm")


def filesystem(path: Path) -> str:
    done = subprocess.run(
        ["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


collapsing = pytest.mark.skipif(
    filesystem(Path("/tmp")) not in ("ext2/ext3", "xfs"),
    reason="needs /tmp on a filesystem that collapses ranges (ext4, xfs)",
)


def numbered(start: int, stop: int) -> bytes:
    return b"".join(b"line %08d\n" % i for i in range(start, stop))


def kept(log: Path) -> bytes:
    """Every byte the log keeps, oldest first."""
    rotated = sorted(layout.rotated_indexes(log), reverse=True)
    return b"".join(layout.rotated_path(log, i).read_bytes() for i in rotated) + log.read_bytes()


@collapsing
def test_a_rotation_collapses_the_head_in_place_into_rotated_files(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "web.log"
    layout.prepare(log)
    stream = numbered(0, 30_000)  # 420 K
    log.write_bytes(stream)
    inode = log.stat().st_ino

    rotated = rotate(log, LogLimits(max_size=100 * K, max_files=3))

    assert rotated is not None
    assert not rotated.truncated
    assert log.stat().st_ino == inode  # the writer's file, never reopened
    assert sorted(layout.rotated_indexes(log)) == [1, 2]
    assert layout.rotated_path(log, 1).stat().st_size == 100 * K
    assert layout.rotated_path(log, 2).stat().st_size == 100 * K
    assert log.stat().st_size < 4 * K
    assert stream.endswith(kept(log))
    # Each file says where it starts in the stream; the live file where it now begins.
    assert layout.read_start(log) == rotated.cut
    assert layout.read_start(layout.rotated_path(log, 1)) == rotated.cut - 100 * K
    assert layout.read_start(layout.rotated_path(log, 2)) == rotated.cut - 200 * K


@collapsing
def test_a_second_rotation_moves_the_first_one_up(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    limits = LogLimits(max_size=100 * K, max_files=3)
    log.write_bytes(numbered(0, 8_000))  # 112 K
    first = rotate(log, limits)
    assert first is not None
    first_piece = layout.rotated_path(log, 1).read_bytes()
    with log.open("ab") as writer:
        writer.write(numbered(8_000, 15_300))
    second = rotate(log, limits)
    assert second is not None
    assert layout.rotated_path(log, 2).read_bytes() == first_piece
    # The first cut (108 K) made a full .1 and an 8 K .2; that .2 went when .1 moved up.
    assert kept(log) == numbered(0, 15_300)[8 * K :]
    assert layout.read_start(log) == first.cut + second.cut


@collapsing
def test_no_line_is_lost_or_doubled_while_a_writer_appends_during_rotations(
    tmp_path: Path,
) -> None:
    log = tmp_path / "web.log"
    layout.prepare(log)
    limits = LogLimits(max_size=64 * K, max_files=1000)  # keep everything, to compare
    done = threading.Event()

    def write() -> None:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND)
        try:
            for i in range(200_000):
                os.write(fd, b"line %08d\n" % i)  # one write per line, as a service does
        finally:
            os.close(fd)
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    rotations = 0
    while not done.is_set():
        rotations += rotate(log, limits) is not None
    writer.join()

    assert rotations > 10
    assert kept(log) == numbered(0, 200_000)


@pytest.mark.skipif(not SHM.is_dir(), reason="needs a tmpfs at /dev/shm")
def test_where_collapse_is_refused_the_file_is_copied_and_truncated(tmp_path: Path) -> None:
    directory = SHM / f"reconciler-test-{os.getpid()}"
    directory.mkdir()
    try:
        log = directory / "web.log"
        log.write_bytes(numbered(0, 10_000))
        rotated = rotate(log, LogLimits(max_size=100 * K, max_files=3))
        assert rotated is not None
        assert rotated.truncated
        assert log.stat().st_size == 0
        assert kept(log) == numbered(0, 10_000)
        assert layout.read_start(log) == len(numbered(0, 10_000))
    finally:
        for path in directory.iterdir():
            path.unlink()
        directory.rmdir()


def test_rotated_files_and_a_prepared_log_are_private(tmp_path: Path) -> None:
    log = tmp_path / "state" / "logs" / "web.log"
    layout.prepare(log)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    log.write_bytes(numbered(0, 10_000))
    assert rotate(log, LogLimits(max_size=64 * K, max_files=2)) is not None
    assert stat.S_IMODE(layout.rotated_path(log, 1).stat().st_mode) == 0o600


def test_preparing_keeps_an_existing_files_mode_and_content(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_bytes(b"kept\n")
    log.chmod(0o644)
    layout.prepare(log)
    assert log.read_bytes() == b"kept\n"
    assert stat.S_IMODE(log.stat().st_mode) == 0o644


def test_a_log_locked_by_another_keeper_is_left_for_the_next_round(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_bytes(numbered(0, 10_000))
    other = os.open(log, os.O_RDONLY)
    try:
        fcntl.flock(other, fcntl.LOCK_SH)  # a reader in the middle of a chunk
        assert rotate(log, LogLimits(max_size=64 * K, max_files=2)) is None
        fcntl.flock(other, fcntl.LOCK_UN)
        assert rotate(log, LogLimits(max_size=64 * K, max_files=2)) is not None
    finally:
        os.close(other)


def test_what_is_not_a_regular_file_is_never_rotated(tmp_path: Path) -> None:
    target, link, fifo = tmp_path / "target.log", tmp_path / "link.log", tmp_path / "fifo"
    target.write_bytes(numbered(0, 10_000))
    link.symlink_to(target)
    os.mkfifo(fifo)
    limits = LogLimits(max_size=64 * K, max_files=2)
    assert rotate(link, limits) is None
    assert rotate(fifo, limits) is None
    assert rotate(tmp_path / "missing.log", limits) is None
    assert layout.rotated_indexes(target) == []


def test_removing_a_log_takes_its_rotated_files_and_marks(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_bytes(numbered(0, 10_000))
    rotate(log, LogLimits(max_size=64 * K, max_files=3))
    layout.marks_path(log).write_text("1 1\n")
    (tmp_path / "webx.log.1").write_text("another log's\n")
    layout.remove_log(log)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["webx.log.1"]
