"""A mixed Orchfile: containers and host processes under one status, order and teardown.

A container REQUIREs a host service and a host service REQUIREs a container; `run` is
SIGKILLed and started again, and must adopt both kinds instead of duplicating them.
"""

from __future__ import annotations

import json
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

STACK = """\
SERVICE api
  RUN sh -c 'echo ready > {marker}; exec sleep 1000'
  HEALTHCHECK test -f {marker}
  TIMEOUT_STOP 1s

SERVICE web
  FROM ./img
  CMD sleep 1000
  REQUIRES api
  TIMEOUT_STOP 1s

SERVICE reporter
  RUN sleep 1000
  REQUIRES web
  TIMEOUT_STOP 1s
"""


class Stack:
    def __init__(self, directory: Path, containerd: NamespacedContainerd, state: Path) -> None:
        self.directory = directory
        self.containerd = containerd
        self.env = {
            **os.environ,
            "CONTAINERD_ADDRESS": str(containerd.socket),
            "RECONCILER_NAMESPACE": containerd.namespace,
            "RECONCILER_STATE_DIR": str(state),
        }

    def command(self, *args: str) -> list[str]:
        orchfile = str(self.directory / "Orchfile")
        return [sys.executable, "-m", "reconciler", *args, "-f", orchfile, "--project", "mix"]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, check=False
        )

    def status(self) -> dict[str, dict[str, object]]:
        report = json.loads(self.cli("status", "-o", "json").stdout)
        return {s["name"]: s for s in report["services"]}


@pytest.fixture
def stack(
    containerd: NamespacedContainerd, busybox_image: BuiltImage, tmp_path: Path
) -> Iterator[Stack]:
    directory = tmp_path / "mix"
    directory.mkdir()
    write_layout(busybox_image, directory / "img")
    (directory / "Orchfile").write_text(STACK.format(marker=tmp_path / "api.ready"))
    made = Stack(directory, containerd, tmp_path / "state")
    yield made
    assert made.cli("down").returncode == 0
    containerd.ctr("images", "rm", "--sync", busybox_image.reference)


def test_containers_and_host_services_start_in_each_others_order(stack: Stack) -> None:
    applied = stack.cli("apply", "--wait", "--timeout", "60s")
    assert applied.returncode == 0, applied.stderr
    creates = [line.split()[2] for line in applied.stderr.splitlines() if " create " in line]
    assert creates == ["api:", "web:", "reporter:"]
    states = stack.status()
    assert {n: (s["mode"], s["state"]) for n, s in states.items()} == {
        "api": ("host", "running"),
        "web": ("container", "running"),
        "reporter": ("host", "running"),
    }
    assert states["api"]["health"] == "healthy"


def test_a_sigkilled_run_is_adopted_not_duplicated(stack: Stack) -> None:
    log = stack.directory.parent / "run.log"
    with log.open("wb") as sink:
        first = subprocess.Popen(stack.command("run"), env=stack.env, stdout=sink, stderr=sink)
    eventually(
        lambda: stack.status().get("reporter", {}).get("state") == "running",
        timeout=60,
        what="the stack",
    )
    before = {n: s["pid"] for n, s in stack.status().items()}
    first.send_signal(signal.SIGKILL)
    first.wait()
    with log.open("ab") as sink:
        second = subprocess.Popen(stack.command("run"), env=stack.env, stdout=sink, stderr=sink)
    try:
        eventually(lambda: "stopped" not in log.read_text(), timeout=5, what="a second run")
        applied = stack.cli("plan")
        assert applied.stdout == "no changes\n"
        assert {n: s["pid"] for n, s in stack.status().items()} == before
        assert stack.containerd.ctr("containers", "ls", "-q").split() == ["mix-web"]
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0


def test_a_host_service_reloads_when_only_its_env_file_changed(
    containerd: NamespacedContainerd, tmp_path: Path
) -> None:
    directory = tmp_path / "reload"
    directory.mkdir()
    marker = tmp_path / "reloads"
    (directory / "app.env").write_text("LEVEL=info\n")
    (directory / "Orchfile").write_text(
        "SERVICE app\n"
        f"  RUN sh -c 'trap \"echo reloaded >> {marker}\" HUP; while :; do sleep 0.1; done'\n"
        "  ENV_FILE ./app.env\n"
        "  RELOAD kill -HUP $MAINPID\n"
        "  TIMEOUT_STOP 1s\n"
    )
    stack = Stack(directory, containerd, tmp_path / "state")
    stack.command = lambda *args: [  # type: ignore[method-assign]
        sys.executable,
        "-m",
        "reconciler",
        *args,
        "-f",
        str(directory / "Orchfile"),
        "--project",
        "rl",
    ]
    try:
        assert stack.cli("apply").returncode == 0
        pid = stack.status()["app"]["pid"]
        (directory / "app.env").write_text("LEVEL=debug\n")
        assert stack.cli("plan").stdout == (
            f"reload app: config changed (ENV_FILE {directory / 'app.env'}); RELOAD\n"
        )
        applied = stack.cli("apply")
        assert applied.returncode == 0, applied.stderr
        eventually(marker.exists, timeout=10, what="the HUP trap")
        assert stack.status()["app"]["pid"] == pid
        assert stack.cli("plan").stdout == "no changes\n"
    finally:
        assert stack.cli("down").returncode == 0
