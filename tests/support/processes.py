"""Owning the daemons a test run starts: free ports and stopping by pid.

Every server the tests start listens on 127.0.0.1 and is stopped through the pid it
recorded, never by name, so a run cannot disturb another engineer's daemons.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

from tests.support.polling import eventually

# Daemons this process started: terminate() reaps them, and a dropped Popen would warn.
_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn_daemon(argv: list[str], *, log_path: Path, pid_path: Path) -> int:
    """Start ``argv`` in its own session with output to ``log_path``; record and return its pid.

    The own session keeps it alive after the starting process exits (``hack/`` scripts)
    and out of reach of a Ctrl-C meant for pytest.
    """
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    pid_path.write_text(f"{process.pid}\n")
    _children[process.pid] = process
    return process.pid


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may itself contain
    spaces and parentheses): `[0]` the state, `[1]` the parent, `[3]` the session,
    `[11]`/`[12]` user/system ticks, `[19]` the start time; None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()


def live_pids() -> list[int]:
    """Every process's pid, from /proc (some may end while the caller looks)."""
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def parents() -> dict[int, int]:
    """Each live process's parent."""
    found = {}
    for pid in live_pids():
        if (fields := stat_fields(pid)) is not None:
            found[pid] = int(fields[1])
    return found


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def command_line(pid: int) -> list[str]:
    """The argv of a live process (empty when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return []
    return [part.decode() for part in raw.split(b"\0") if part]


def terminate(pid: int, *, grace: float = 10.0) -> None:
    """SIGTERM ``pid``, SIGKILL it after ``grace`` seconds, and wait until it is gone.

    A child started by spawn_daemon() in this process is reaped too.
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        _reap(pid)
        return
    try:
        eventually(lambda: not is_running(pid), timeout=grace, what=f"pid {pid} exits on SIGTERM")
    except AssertionError:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            _reap(pid)
            return
        eventually(lambda: not is_running(pid), timeout=grace, what=f"pid {pid} exits on SIGKILL")
    _reap(pid)


def _reap(pid: int) -> None:
    child = _children.pop(pid, None)
    if child is not None:
        child.wait()
