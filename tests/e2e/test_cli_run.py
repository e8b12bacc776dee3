"""`reconciler run` as a user runs it: a process watching the Orchfile, edited and saved.

The reconciler runs as a subprocess against the test's containerd namespace; the test
saves the Orchfile the way editors do and checks containerd with `ctr`. Every test
stops the reconciler with SIGTERM (exit 0, services left running), then runs `down`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import BuiltImage, write_layout
from tests.support.polling import eventually


class Running:
    def __init__(self, directory: Path, containerd: NamespacedContainerd, state: Path) -> None:
        self.directory = directory
        self.containerd = containerd
        self.env = {
            **os.environ,
            "CONTAINERD_ADDRESS": str(containerd.socket),
            "RECONCILER_NAMESPACE": containerd.namespace,
            "RECONCILER_STATE_DIR": str(state),
        }
        self.log = directory.parent / "run.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> list[str]:
        orchfile = str(self.directory / "Orchfile")
        return [sys.executable, "-m", "reconciler", *args, "-f", orchfile, "--project", "app"]

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command("run"), env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def save(self, text: str) -> None:
        """Like an editor: write a temporary file, then rename it over the Orchfile."""
        temporary = self.directory / ".Orchfile.tmp"
        temporary.write_text(text)
        temporary.rename(self.directory / "Orchfile")

    def tasks(self) -> dict[str, tuple[str, str]]:
        rows = self.containerd.ctr("tasks", "ls").splitlines()[1:]
        return {f[0]: (f[1], f[2]) for f in (row.split() for row in rows)}

    def running(self, name: str) -> bool:
        return self.tasks().get(name, ("", ""))[1] == "RUNNING"

    def logged(self, text: str) -> bool:
        return text in self.log.read_text()


@pytest.fixture
def reconciler(
    containerd: NamespacedContainerd, busybox_image: BuiltImage, tmp_path: Path
) -> Iterator[Running]:
    directory = tmp_path / "app"
    directory.mkdir()
    write_layout(busybox_image, directory / "img")
    running = Running(directory, containerd, tmp_path / "state")
    yield running
    if running.process is not None and running.process.poll() is None:
        running.stop()
    subprocess.run(running.command("down"), env=running.env, check=True, capture_output=True)
    containerd.ctr("images", "rm", "--sync", busybox_image.reference)


BASE = """\
SERVICE web
  FROM ./img
  CMD sleep 1000
  TIMEOUT_STOP 1s

SERVICE worker
  FROM ./img
  CMD sleep 1000
  REQUIRES web
  RESTART always
  TIMEOUT_STOP 1s
"""


def test_saves_add_change_and_remove_services_while_running(reconciler: Running) -> None:
    reconciler.save(BASE)
    reconciler.start()
    eventually(lambda: reconciler.running("app-worker"), timeout=30, what="the stack")
    web_pid = reconciler.tasks()["app-web"][0]

    reconciler.save(BASE + "  ENV MODE=debug\n")
    eventually(
        lambda: reconciler.logged("recreate worker: config changed (ENV MODE)"),
        timeout=10,
        what="the recreate",
    )
    eventually(lambda: reconciler.running("app-worker"), timeout=10, what="worker back")
    assert reconciler.tasks()["app-web"][0] == web_pid

    reconciler.save(BASE + "\nSERVICE extra\n  FROM ./img\n  CMD sleep 1000\n  TIMEOUT_STOP 1s\n")
    eventually(lambda: reconciler.running("app-extra"), timeout=10, what="the new service")

    reconciler.save(BASE)
    eventually(lambda: "app-extra" not in reconciler.tasks(), timeout=10, what="the removal")
    assert reconciler.stop() == 0
    assert reconciler.running("app-web")
    assert reconciler.running("app-worker")


def test_an_invalid_save_is_reported_and_nothing_is_torn_down(reconciler: Running) -> None:
    reconciler.save(BASE)
    reconciler.start()
    eventually(lambda: reconciler.running("app-worker"), timeout=30, what="the stack")
    before = reconciler.tasks()
    reconciler.save(BASE.replace("REQUIRES web", "REQUIRES nowhere"))
    eventually(
        lambda: reconciler.logged("REQUIRES references unknown service 'nowhere'"),
        timeout=10,
        what="the error",
    )
    assert reconciler.tasks() == before
    status = subprocess.run(
        reconciler.command("status", "-o", "json"),
        env=reconciler.env,
        capture_output=True,
        check=False,
    )
    assert status.returncode == 3
    assert b'"valid": false' in status.stdout
    assert reconciler.stop() == 0
    reconciler.save(BASE)


def test_a_killed_task_is_restarted_by_its_policy(reconciler: Running) -> None:
    reconciler.save(BASE)
    reconciler.start()
    eventually(lambda: reconciler.running("app-worker"), timeout=30, what="the stack")
    old_pid = reconciler.tasks()["app-worker"][0]
    reconciler.containerd.ctr("tasks", "kill", "-s", "KILL", "app-worker")
    eventually(
        lambda: reconciler.running("app-worker") and reconciler.tasks()["app-worker"][0] != old_pid,
        timeout=15,
        what="a restarted worker",
    )
    assert reconciler.logged("restart worker: exit code 137 (RESTART always)")
    assert reconciler.stop() == 0
