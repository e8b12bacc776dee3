"""One writer per namespace and project: an exclusive lock file under the state dir.

Why this exists: two ``run``/``apply`` processes reconciling one project would fight,
each deleting what the other just created. The lock is ``flock`` on
``<state>/locks/<namespace>/<project>.lock``, so the kernel releases it when the holder
exits or dies (even by SIGKILL): a crashed reconciler never leaves a stale lock behind.
The holder writes its pid and role (`run`, `apply`, `down`, `restart`) into the file, so
a second process can name it, and knows whether to talk to it (a `run` serves the
control API) or to wait for it to finish.

Invariants:
* the file is never deleted: unlinking a lock file lets two processes lock two different
  inodes under one name;
* the pid and role in the file are hints; the flock alone decides;
* the descriptor is close-on-exec, so a child (the embedded containerd) never keeps it;
* only the state dir's owner can open it, so only they can take it: a read-only open
  takes an `flock` as well, and a lock anyone could open is a lock anyone could hold.
  The file is 0600 in 0700 directories reached without following a link; one that
  another user owns is refused, one that is looser is tightened;
* the hint is rewritten in place, never truncated: a lock file that exists needs no
  new block, so a full disk does not stop `down` (nor a no-op `apply`) from taking it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Final

from reconciler.errors import LockHeld, UsageError
from reconciler.oserrors import translated
from reconciler.statedir.tree import open_directory, open_private_file

# The holder's hint, padded to one fixed width: rewriting it reuses the file's block.
HINT_WIDTH: Final = 64


def lock_path(state_dir: Path, namespace: str, project: str) -> Path:
    """Where the lock for ``namespace``/``project`` lives under ``state_dir``."""
    for what, name in (("namespace", namespace), ("project", project)):
        if not name or "/" in name or name.startswith(".") or "\0" in name:
            raise UsageError(f"{what} '{name}' cannot name a lock file")
    return state_dir / "locks" / namespace / f"{project}.lock"


class ProjectLock:
    """The exclusive lock of one namespace and project; a context manager."""

    def __init__(
        self, *, state_dir: Path, namespace: str, project: str, role: str = "apply"
    ) -> None:
        self.namespace = namespace
        self.project = project
        self.role = role
        self.state_dir = state_dir
        self.path = lock_path(state_dir, namespace, project)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock now or raise ``LockHeld`` naming the pid that holds it."""
        if self._fd is not None:
            return
        directory = open_directory(self.path.parent, below=self.state_dir)
        try:
            fd = open_private_file(directory, self.path.name, self.path, os.O_RDWR)
        finally:
            os.close(directory)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, role = _read_holder(fd)
            os.close(fd)
            who = f"`{role}`, pid {pid}" if pid is not None else "another process"
            raise LockHeld(
                f"another reconciler ({who}) is running for project '{self.project}' in "
                f"namespace '{self.namespace}' (lock {self.path})",
                pid=pid,
                role=role,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            _write_hint(fd, self.path, f"{os.getpid()} {self.role}")
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (the file stays, its hint blanked); a no-op when not held."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Only a hint: a stale one names a pid that no longer holds the flock.
            with contextlib.suppress(OSError):
                os.pwrite(fd, _padded(""), 0)
        finally:
            os.close(fd)

    def __enter__(self) -> ProjectLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _write_hint(fd: int, path: Path, hint: str) -> None:
    with translated(path):
        os.pwrite(fd, _padded(hint), 0)


def _padded(hint: str) -> bytes:
    return f"{hint}\n".ljust(HINT_WIDTH).encode()


def _read_holder(fd: int) -> tuple[int | None, str]:
    pid, _, role = os.pread(fd, HINT_WIDTH, 0).decode(errors="replace").strip().partition(" ")
    return (int(pid) if pid.isdigit() else None), role or "reconciler"
