"""Services that make stopping hard: a PID 1 that ignores SIGTERM and forks, and a crash
loop under `reconciler run`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.reliability.conftest import Stack
from tests.support.polling import eventually
from tests.support.processes import parents, stat_fields
from tests.support.stack import shim_pids

pytestmark = pytest.mark.slow

# PID 1 ignores SIGTERM; a child that ignores it too, an orphan (double fork), a plain one.
FAMILY = 'trap "" TERM; (trap "" TERM; sleep 1000) & (sleep 1000 &); sleep 1000 & '
STUBBORN = f"""\
SERVICE stubborn
  FROM ./img
  CMD sh -c '{FAMILY}while :; do sleep 1; done'
  TIMEOUT_STOP 1s
"""

CRASHER = """\
SERVICE crasher
  FROM ./img
  CMD sh -c 'exit 1'
  RESTART always
  RESTART_DELAY 200ms
  START_LIMIT_BURST 3
  START_LIMIT_INTERVAL 30s
"""


def descendants(pid: int) -> set[int]:
    """`pid` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for child, parent in parents().items():
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def start_time(pid: int) -> str | None:
    fields = stat_fields(pid)
    return None if fields is None else fields[19]


def test_a_pid_1_that_ignores_sigterm_and_forks_leaves_nothing_after_down(stack: Stack) -> None:
    stack.write(STUBBORN)
    assert stack.cli("apply", "--wait", "--timeout", "60s").code == 0
    pid = int(stack.containerd.ctr("tasks", "ls").splitlines()[1].split()[1])
    family = eventually(lambda: len(descendants(pid)) >= 4 and descendants(pid), timeout=10)
    started = {member: start_time(member) for member in family}
    cgroup = next(Path("/sys/fs/cgroup/pids").glob(f"{stack.containerd.namespace}/app-stubborn"))
    assert cgroup.is_dir()

    done = stack.cli("down")

    assert done.code == 0, done.out + done.err
    survivors = [p for p, when in started.items() if start_time(p) == when]
    assert survivors == []
    assert shim_pids(stack.containerd.namespace, "app-stubborn") == []
    assert not cgroup.exists()


def test_a_crash_loop_under_run_ends_failed_with_its_restarts_and_stops_restarting(
    stack: Stack, tmp_path: Path
) -> None:
    stack.write(CRASHER)
    run = stack.spawn("run", log=tmp_path / "run.log")
    try:

        def crasher() -> dict[str, object]:
            status = subprocess.run(
                stack.command("status", "-o", "json"),
                env={**os.environ, **stack.env},
                capture_output=True,
                text=True,
                check=False,
            )
            report = json.loads(status.stdout)
            return next(s for s in report["services"] if s["name"] == "crasher")

        failed = eventually(
            lambda: crasher()["state"] == "failed" and crasher(), timeout=30, what="failed"
        )
        assert failed["restarts"] == 2
        assert failed["exit_code"] == 1
        pid = stack.containerd.ctr("tasks", "ls").splitlines()[1].split()[1]
        # Nothing may happen now; watch for a few restart delays' worth of time.
        quiet_until = time.monotonic() + 3
        while time.monotonic() < quiet_until:
            assert stack.containerd.ctr("tasks", "ls").splitlines()[1].split()[1] == pid
            time.sleep(0.2)
        assert crasher()["state"] == "failed"
        assert crasher()["restarts"] == 2
    finally:
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == 0
