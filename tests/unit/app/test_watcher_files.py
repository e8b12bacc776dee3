"""The file watcher against real files, inotify and real editors' ways of saving.

No containerd is needed, so these run everywhere. Each save must produce exactly one
notification naming the saved file. "Exactly one" is checked without sleeping: after
the save's notification, a sentinel file in the same folder is written; inotify delivers
one folder's events in order, so a late second notification for the save would arrive
before, or together with, the sentinel's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from reconciler.app.watcher import FileWatcher
from reconciler.clock import SystemClock

pytestmark = pytest.mark.asyncio

WAIT = 5.0


@dataclass
class Stack:
    folder: Path
    orchfile: Path
    sentinel: Path
    watcher: FileWatcher
    notes: asyncio.Queue[frozenset[Path]]

    async def next(self) -> frozenset[Path]:
        return await asyncio.wait_for(self.notes.get(), timeout=WAIT)

    async def expect_exactly_one(self, *changed: Path) -> None:
        assert await self.next() == frozenset(changed)
        self.sentinel.write_text(os.urandom(4).hex())
        assert await self.next() == {self.sentinel}, "a second notification for one save"


async def run(*argv: str) -> None:
    process = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL)
    assert await asyncio.wait_for(process.wait(), timeout=30) == 0, argv


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    folder = tmp_path / "demo"
    folder.mkdir()
    orchfile = folder / "Orchfile"
    orchfile.write_text("SERVICE web\nFROM busybox\n")
    sentinel = folder / "sentinel"
    sentinel.write_text("0")
    notes: asyncio.Queue[frozenset[Path]] = asyncio.Queue()
    async with FileWatcher([orchfile, sentinel], notes.put_nowait, clock=SystemClock()) as w:
        yield Stack(folder, orchfile, sentinel, w, notes)


async def test_truncate_and_write_notifies_once(stack: Stack) -> None:
    with stack.orchfile.open("w") as file:
        file.write("SERVICE web\n")
        file.flush()
        file.write("FROM busybox:2\n")
    await stack.expect_exactly_one(stack.orchfile)


async def test_write_temp_and_rename_over_notifies_once(stack: Stack) -> None:
    temp = stack.folder / ".Orchfile.tmp1234"
    temp.write_text("SERVICE web\nFROM busybox:3\n")
    os.replace(temp, stack.orchfile)
    await stack.expect_exactly_one(stack.orchfile)


async def test_delete_and_recreate_notifies_once(stack: Stack) -> None:
    stack.orchfile.unlink()
    stack.orchfile.write_text("SERVICE web\nFROM busybox:4\n")
    await stack.expect_exactly_one(stack.orchfile)


async def test_sed_in_place_notifies_once(stack: Stack) -> None:
    await run("sed", "-i", "s/busybox/busybox:5/", str(stack.orchfile))
    assert "busybox:5" in stack.orchfile.read_text()
    await stack.expect_exactly_one(stack.orchfile)


@pytest.mark.skipif(shutil.which("vim") is None, reason="vim is not installed")
async def test_a_real_vim_save_with_its_swap_file_notifies_once(stack: Stack) -> None:
    # Debian's vim writes in place beside .Orchfile.swp; the rename-to-backup way of
    # other builds is replayed step by step in the next test.
    await run(
        "vim", "-u", "NONE", "-i", "NONE", "-es",
        "-c", "%s/busybox/busybox:6/", "-c", "wq", str(stack.orchfile),
    )  # fmt: skip
    assert "busybox:6" in stack.orchfile.read_text()
    await stack.expect_exactly_one(stack.orchfile)


async def test_a_vim_style_backup_rename_save_notifies_once(stack: Stack) -> None:
    swap = stack.folder / ".Orchfile.swp"
    swap.write_bytes(b"b0VIM")
    probe = stack.folder / "4913"
    probe.write_text("")
    probe.unlink()
    backup = stack.folder / "Orchfile~"
    os.rename(stack.orchfile, backup)
    stack.orchfile.write_text("SERVICE web\nFROM busybox:7\n")
    backup.unlink()
    swap.unlink()
    await stack.expect_exactly_one(stack.orchfile)


async def test_swap_backup_and_lock_files_alone_do_not_notify(stack: Stack) -> None:
    for name in (".Orchfile.swp", "Orchfile~", "4913", ".#Orchfile", "Orchfile.tmp"):
        (stack.folder / name).write_text("x")
        (stack.folder / name).unlink()
    stack.sentinel.write_text("1")
    assert await stack.next() == {stack.sentinel}


async def test_reading_the_file_does_not_notify(stack: Stack) -> None:
    for _ in range(3):
        stack.orchfile.read_text()
    stack.sentinel.write_text("1")
    assert await stack.next() == {stack.sentinel}


async def test_a_burst_across_files_is_one_notification_naming_each(stack: Stack) -> None:
    stack.orchfile.write_text("SERVICE web\nFROM busybox:8\n")
    stack.sentinel.write_text("2")
    assert await stack.next() == {stack.orchfile, stack.sentinel}


async def test_an_env_file_added_to_the_watched_set_in_another_folder_is_seen(
    stack: Stack, tmp_path: Path
) -> None:
    env_folder = tmp_path / "env"
    env_folder.mkdir()
    env_file = env_folder / "web.env"
    env_file.write_text("A=1\n")
    stack.watcher.watch([stack.orchfile, stack.sentinel, env_file])
    assert stack.watcher.directories == {str(stack.folder), str(env_folder)}
    env_file.write_text("A=2\n")
    assert await stack.next() == {env_file}


async def test_a_file_dropped_from_the_watched_set_no_longer_notifies(stack: Stack) -> None:
    stack.watcher.watch([stack.sentinel])
    stack.orchfile.write_text("SERVICE web\nFROM busybox:9\n")
    stack.sentinel.write_text("3")
    assert await stack.next() == {stack.sentinel}


async def test_a_folder_left_with_no_watched_file_is_unwatched(
    stack: Stack, tmp_path: Path
) -> None:
    other = tmp_path / "other.env"
    other.write_text("")
    stack.watcher.watch([other])
    assert stack.watcher.directories == {str(tmp_path)}
    assert stack.watcher.paths == {other}


async def test_a_symlinked_orchfile_is_seen_through_its_target(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    target = real / "Orchfile"
    target.write_text("SERVICE web\n")
    link = tmp_path / "Orchfile"
    link.symlink_to(target)
    notes: asyncio.Queue[frozenset[Path]] = asyncio.Queue()
    async with FileWatcher([link], notes.put_nowait, clock=SystemClock()):
        target.write_text("SERVICE web\nFROM busybox\n")
        assert await asyncio.wait_for(notes.get(), timeout=WAIT) == {link}


async def test_a_file_in_a_missing_folder_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "nope" / "web.env"
    async with FileWatcher([missing], lambda changed: None, clock=SystemClock()) as watcher:
        assert watcher.directories == frozenset()
    assert "cannot watch" in caplog.text


async def test_a_shell_redirection_writing_in_two_parts_notifies_once_when_complete(
    stack: Stack,
) -> None:
    # `cat > Orchfile` typed by hand: truncated at once, then written line by line while
    # the shell holds the file open. The notification comes when it is closed.
    script = f"exec 3>{stack.orchfile}; echo 'SERVICE web' >&3; sleep 0.6; echo 'FROM b:10' >&3"
    writer = asyncio.ensure_future(run("sh", "-c", script))
    changed = await stack.next()
    assert changed == {stack.orchfile}
    assert stack.orchfile.read_text() == "SERVICE web\nFROM b:10\n", "notified mid-write"
    await writer
    stack.sentinel.write_text("4")
    assert await stack.next() == {stack.sentinel}, "a second notification for one save"


async def test_a_python_open_w_with_a_pause_before_writing_notifies_once_complete(
    stack: Stack,
) -> None:
    async def save() -> None:
        with stack.orchfile.open("w") as file:
            await asyncio.sleep(0.5)  # a slow writer: the file is empty meanwhile
            file.write("SERVICE web\nFROM busybox:11\n")

    writer = asyncio.ensure_future(save())
    assert await stack.next() == {stack.orchfile}
    assert stack.orchfile.read_text() == "SERVICE web\nFROM busybox:11\n", "notified mid-write"
    await writer
    stack.sentinel.write_text("5")
    assert await stack.next() == {stack.sentinel}, "a second notification for one save"
