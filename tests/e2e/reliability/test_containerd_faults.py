"""containerd itself failing under the reconciler: killed mid-apply, down at start.

Each test runs its own `PrivateContainerd` (never the session's shared daemon), kills it
with SIGKILL, and starts it again on the same root and socket, as systemd would. The
reconciler runs as a subprocess (`apply`), exactly as a user runs it; the outcome is
checked with `ctr` and the leak check.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.reliability.conftest import Stack, make_stack
from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import BuiltImage
from tests.support.polling import eventually
from tests.support.processes import is_running

pytestmark = pytest.mark.slow

RECONNECT_WITHIN = 5.0
SERVICE = """\
SERVICE {name}
  FROM ./img
  CMD sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
  TIMEOUT_STOP 5s
"""


def write_services(stack: Stack, count: int) -> list[str]:
    names = [f"s{index:02d}" for index in range(count)]
    stack.write("\n".join(SERVICE.format(name=name) for name in names))
    return [f"app-{name}" for name in names]


def kill_daemon(containerd: NamespacedContainerd) -> None:
    pid = containerd.daemon.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    eventually(lambda: not is_running(pid), timeout=10, what="containerd is gone")


def finish(stack: Stack, image: BuiltImage, monkeypatch: pytest.MonkeyPatch) -> None:
    """`down` and `leak-check` in this process, then the image goes."""
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    stack.down_and_check()
    stack.containerd.ctr("images", "rm", "--sync", image.reference)


def test_containerd_killed_and_restarted_during_an_apply_of_twenty_services_converges(
    private_daemon: NamespacedContainerd,
    busybox_image: BuiltImage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    private_daemon.daemon.start()
    stack = make_stack(private_daemon, busybox_image, tmp_path)
    expected = write_services(stack, 20)
    log = tmp_path / "apply.log"
    apply = stack.spawn("apply", "--wait", "--timeout", "90s", log=log)

    eventually(lambda: len(stack.containers()) >= 3, timeout=60, what="apply under way")
    kill_daemon(private_daemon)
    assert apply.poll() is None, log.read_text()
    private_daemon.daemon.start()
    restarted = time.monotonic()
    seen_at_restart = len(stack.running())

    def progressed() -> bool:
        return apply.poll() is not None or len(stack.running()) > seen_at_restart

    eventually(progressed, timeout=RECONNECT_WITHIN, what="apply resumes after the restart")
    assert apply.wait(timeout=90) == 0, log.read_text()
    assert time.monotonic() - restarted < 90
    assert stack.containers() == expected
    assert stack.running() == expected
    finish(stack, busybox_image, monkeypatch)


def test_apply_started_while_containerd_is_down_waits_then_converges(
    private_daemon: NamespacedContainerd,
    busybox_image: BuiltImage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = make_stack(private_daemon, busybox_image, tmp_path)
    expected = write_services(stack, 3)
    log = tmp_path / "apply.log"
    apply = stack.spawn("apply", "--wait", "--timeout", "20s", log=log)

    eventually(lambda: "unreachable" in log.read_text(), timeout=15, what="apply waiting")
    assert apply.poll() is None, log.read_text()
    assert not private_daemon.socket.exists()
    private_daemon.daemon.start()
    assert apply.wait(timeout=30) == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    assert stack.running() == expected
    finish(stack, busybox_image, monkeypatch)
