"""One writer per namespace and project, checked against a second real process."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.app.lock import ProjectLock, lock_path
from reconciler.errors import LockHeld, UnsafePath, UsageError

# A second reconciler: takes the lock, says so, and holds it until stdin closes.
HOLDER = """
import sys
from pathlib import Path
from reconciler.app.lock import ProjectLock
from reconciler.errors import LockHeld
lock = ProjectLock(state_dir=Path(sys.argv[1]), namespace="orch", project="demo")
try:
    lock.acquire()
except LockHeld as error:
    print(error, flush=True)
    sys.exit(1)
print("locked", flush=True)
sys.stdin.read()
"""


def start_holder(state_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    process = start_holder(tmp_path)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=10)


def test_the_lock_lives_under_the_state_dir_per_namespace_and_project(tmp_path: Path) -> None:
    assert lock_path(tmp_path, "orch", "demo") == tmp_path / "locks" / "orch" / "demo.lock"


@pytest.mark.parametrize("project", ["", "../x", "a/b", ".hidden"])
def test_a_name_that_would_escape_the_lock_dir_is_refused(tmp_path: Path, project: str) -> None:
    with pytest.raises(UsageError, match="cannot name a lock file"):
        lock_path(tmp_path, "orch", project)


def test_the_holder_writes_its_pid_and_blanks_it_in_place_on_release(tmp_path: Path) -> None:
    lock = ProjectLock(state_dir=tmp_path, namespace="orch", project="demo")
    with lock:
        assert lock.held
        assert lock.path.read_text().strip() == f"{os.getpid()} apply"
        size = lock.path.stat().st_size
    assert not lock.held
    assert lock.path.read_text().strip() == ""
    # Rewritten in place, never truncated: taking it again needs no new block (a full disk).
    assert lock.path.stat().st_size == size


def test_the_lock_file_is_the_state_dir_owners_alone(tmp_path: Path) -> None:
    with ProjectLock(state_dir=tmp_path, namespace="orch", project="demo") as lock:
        assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(lock.path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "locks").stat().st_mode) == 0o700


def test_an_existing_lock_file_others_could_open_is_tightened(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "orch", "demo")
    path.parent.mkdir(parents=True, mode=0o755)
    path.write_text("")
    path.chmod(0o644)

    with ProjectLock(state_dir=tmp_path, namespace="orch", project="demo"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_a_lock_file_another_user_owns_is_refused(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "orch", "demo")
    path.parent.mkdir(parents=True)
    path.write_text("")
    os.chown(path, 65534, 65534)

    with pytest.raises(UnsafePath, match=rf"{path} belongs to uid 65534"):
        ProjectLock(state_dir=tmp_path, namespace="orch", project="demo").acquire()


@pytest.mark.parametrize("planted", ["demo.lock", "orch", "locks"])
def test_a_link_on_the_way_to_the_lock_is_refused_naming_it(tmp_path: Path, planted: str) -> None:
    path = lock_path(tmp_path, "orch", "demo")
    link = next(p for p in (path, *path.parents) if p.name == planted)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(elsewhere / "x" if planted == "demo.lock" else elsewhere, link)

    with pytest.raises(UnsafePath, match=rf"{link} is a symbolic link"):
        ProjectLock(state_dir=tmp_path, namespace="orch", project="demo").acquire()
    assert list(elsewhere.iterdir()) == []


def test_a_second_holder_fails_naming_the_pid_that_holds_it(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    lock = ProjectLock(state_dir=tmp_path, namespace="orch", project="demo")
    with pytest.raises(LockHeld, match=rf"pid {holder.pid}\b.*project 'demo'.*namespace 'orch'"):
        lock.acquire()
    assert not lock.held


def test_another_project_or_namespace_is_not_blocked(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with ProjectLock(state_dir=tmp_path, namespace="orch", project="other"):
        pass
    with ProjectLock(state_dir=tmp_path, namespace="dev", project="demo"):
        pass


def test_the_lock_is_released_when_the_holder_exits(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    holder.communicate(input="", timeout=10)
    with ProjectLock(state_dir=tmp_path, namespace="orch", project="demo"):
        pass


def test_the_lock_is_released_when_the_holder_is_killed(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    with ProjectLock(state_dir=tmp_path, namespace="orch", project="demo") as lock:
        assert lock.path.read_text().strip() == f"{os.getpid()} apply"


def test_a_second_process_is_refused_while_this_one_holds_it(tmp_path: Path) -> None:
    with ProjectLock(state_dir=tmp_path, namespace="orch", project="demo"):
        second = start_holder(tmp_path)
        out, _ = second.communicate(input="", timeout=30)
    assert second.returncode == 1
    assert f"pid {os.getpid()}" in out


def test_a_child_process_does_not_inherit_the_lock(tmp_path: Path) -> None:
    lock = ProjectLock(state_dir=tmp_path, namespace="orch", project="demo")
    lock.acquire()
    child = subprocess.Popen(["sleep", "60"], close_fds=False)
    try:
        lock.release()
        with ProjectLock(state_dir=tmp_path, namespace="orch", project="demo"):
            pass
    finally:
        child.kill()
        child.wait(timeout=10)
