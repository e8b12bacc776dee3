"""One writer per namespace and project, checked against a second real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.app.lock import ProjectLock, lock_path
from reconciler.errors import LockHeld, UsageError

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


def test_the_holder_writes_its_pid_and_empties_the_file_on_release(tmp_path: Path) -> None:
    lock = ProjectLock(state_dir=tmp_path, namespace="orch", project="demo")
    with lock:
        assert lock.held
        assert lock.path.read_text() == f"{os.getpid()} apply\n"
    assert not lock.held
    assert lock.path.read_text() == ""


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
        assert lock.path.read_text() == f"{os.getpid()} apply\n"


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
