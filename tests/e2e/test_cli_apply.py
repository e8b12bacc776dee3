"""apply, plan, status and down through the command line, against real containerd.

Each test writes an Orchfile next to a busybox OCI layout, points the CLI at the test's
containerd namespace and a private state dir, and checks the result with `ctr` and
`/proc`. Every test ends with `down` and the fixture's leak check.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import BuiltImage, write_layout
from tests.support.polling import eventually
from tests.support.stack import shim_pids


@dataclass(frozen=True, kw_only=True)
class Project:
    directory: Path
    containerd: NamespacedContainerd
    state: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "CONTAINERD_ADDRESS": str(self.containerd.socket),
            "RECONCILER_NAMESPACE": self.containerd.namespace,
            "RECONCILER_STATE_DIR": str(self.state),
        }

    def write(self, text: str) -> None:
        (self.directory / "Orchfile").write_text(text)

    def cli(self, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "-f", str(self.directory / "Orchfile"), "--project", "app"])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    def containers(self) -> list[str]:
        return self.containerd.ctr("containers", "ls", "-q").split()

    def task_states(self) -> dict[str, str]:
        states = {}
        for line in self.containerd.ctr("tasks", "ls").splitlines()[1:]:
            fields = line.split()
            states[fields[0]] = fields[2]
        return states


@pytest.fixture
def project(
    containerd: NamespacedContainerd,
    busybox_image: BuiltImage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Project]:
    directory = tmp_path / "app"
    directory.mkdir()
    write_layout(busybox_image, directory / "img")
    made = Project(directory=directory, containerd=containerd, state=tmp_path / "state")
    for key, value in made.env.items():
        monkeypatch.setenv(key, value)
    yield made
    if (directory / "Orchfile").exists():
        main(["down", "-f", str(directory / "Orchfile"), "--project", "app"])
    containerd.ctr("images", "rm", "--sync", busybox_image.reference)


STACK = """\
SERVICE web
  FROM ./img
  CMD httpd -f -p {port} -h /www
  VOLUME site:/www
  HEALTHCHECK http://127.0.0.1:{port}/
  TIMEOUT_STOP 1s

SERVICE migrate
  FROM ./img
  CMD sh -c 'echo migrated > /www/index.html'
  VOLUME site:/www
  ONESHOT true

SERVICE worker
  FROM ./img
  CMD sleep 1000
  REQUIRES web migrate
  RESTART always
  TIMEOUT_STOP 1s
"""


def task_pids(project: Project) -> dict[str, str]:
    lines = project.containerd.ctr("tasks", "ls").splitlines()[1:]
    return {fields[0]: fields[1] for fields in (line.split() for line in lines)}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_apply_wait_brings_up_a_stack_in_dependency_order(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(STACK.format(port=free_port()))
    code, _, err = project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)
    assert code == 0, err
    assert sorted(project.containers()) == ["app-migrate", "app-web", "app-worker"]
    assert project.task_states() == {
        "app-web": "RUNNING",
        "app-migrate": "STOPPED",
        "app-worker": "RUNNING",
    }
    order = [line.split()[2].rstrip(":") for line in err.splitlines() if " create " in line]
    assert order.index("worker") > order.index("web")
    code, out, _ = project.cli("status", "-o", "json", capsys=capsys)
    report = json.loads(out)
    assert code == 0
    assert report["converged"] is True
    states = {s["name"]: (s["state"], s["health"]) for s in report["services"]}
    assert states == {
        "web": ("running", "healthy"),
        "migrate": ("completed", "none"),
        "worker": ("running", "none"),
    }


def test_a_second_apply_with_nothing_changed_does_nothing(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(STACK.format(port=free_port()))
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    before = project.containerd.ctr("containers", "ls")
    code, out, _ = project.cli("plan", capsys=capsys)
    assert (code, out) == (0, "no changes\n")
    code, _, err = project.cli("apply", capsys=capsys)
    assert code == 0
    assert err == ""
    assert project.containerd.ctr("containers", "ls") == before


def test_an_env_change_recreates_only_that_service_and_plan_names_it(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    project.write(STACK.format(port=port))
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    web_before = task_pids(project)["app-web"]
    project.write(STACK.format(port=port) + "  ENV MODE=debug\n")
    code, out, _ = project.cli("plan", capsys=capsys)
    assert code == 2
    assert out == "recreate worker: config changed (ENV MODE)\n"
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    assert task_pids(project)["app-web"] == web_before


def test_a_killed_task_is_restarted_by_its_policy_and_counted(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(STACK.format(port=free_port()))
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    project.containerd.ctr("tasks", "kill", "-s", "KILL", "app-worker")
    eventually(lambda: project.task_states()["app-worker"] == "STOPPED", timeout=10, what="exit")

    def restart_planned() -> bool:
        # RESTART_DELAY (1s) first: until then the plan says the restart is pending.
        code, out, _ = project.cli("plan", capsys=capsys)
        assert code == 2
        assert out.startswith(("pending worker: backoff", "restart worker"))
        return out == "restart worker: exit code 137 (RESTART always)\n"

    eventually(restart_planned, timeout=10, what="the restart in the plan")
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    report = json.loads(project.cli("status", "-o", "json", capsys=capsys)[1])
    worker = next(s for s in report["services"] if s["name"] == "worker")
    assert (worker["state"], worker["restarts"]) == ("running", 1)


def test_a_removed_service_is_deleted_and_foreign_containers_are_never_touched(
    project: Project, busybox_image: BuiltImage, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(STACK.format(port=free_port()))
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    project.containerd.ctr("containers", "create", busybox_image.reference, "app-stranger")
    project.write(STACK.format(port=free_port()).split("SERVICE worker")[0])
    code, _, err = project.cli("apply", capsys=capsys)
    assert code == 0, err
    assert "remove worker: not in the Orchfile" in err
    assert sorted(project.containers()) == ["app-migrate", "app-stranger", "app-web"]
    assert project.cli("down", capsys=capsys)[0] == 0
    assert project.containers() == ["app-stranger"]
    project.containerd.ctr("containers", "rm", "app-stranger")


def test_down_leaves_nothing_of_the_project(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(STACK.format(port=free_port()))
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    assert project.cli("down", capsys=capsys)[0] == 0
    assert project.containers() == []
    assert project.containerd.ctr("tasks", "ls", "-q").split() == []
    assert "app-" not in project.containerd.ctr("snapshots", "ls")
    assert project.containerd.ctr("leases", "ls", "-q").split() == []
    for name in ("app-web", "app-worker"):
        assert shim_pids(project.containerd.namespace, name) == []


def test_an_invalid_orchfile_changes_nothing(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(STACK.format(port=free_port()))
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    before = sorted(project.containerd.ctr("tasks", "ls").splitlines())
    project.write("SERVICE web\n  FROM ./img\n  MEMORY lots\n")
    code, _, err = project.cli("apply", capsys=capsys)
    assert code == 1
    assert err.strip().endswith(
        "service 'web': MEMORY 'lots' is not a size (use e.g. 512M, 4G, or bytes)"
    )
    assert sorted(project.containerd.ctr("tasks", "ls").splitlines()) == before
    project.write(STACK.format(port=free_port()))


def test_apply_killed_midway_then_rerun_converges_without_duplicates(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(STACK.format(port=free_port()))
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "apply",
        "--wait",
        "-f",
        str(project.directory / "Orchfile"),
        "--project",
        "app",
    ]
    child = subprocess.Popen(command, env={**os.environ, **project.env}, stderr=subprocess.DEVNULL)
    eventually(lambda: "app-web" in project.containers(), timeout=30, what="a first container")
    child.send_signal(signal.SIGKILL)
    child.wait()
    code, _, err = project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)
    assert code == 0, err
    assert sorted(project.containers()) == ["app-migrate", "app-web", "app-worker"]
