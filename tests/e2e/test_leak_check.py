"""leak-check through the command line, against real containerd.

Each test brings a small stack up with `apply` (or plants objects directly with our
client or plain `ctr`), runs `leak-check` in-process and checks its text, JSON and JUnit
output and exit code; then removes what it planted so the fixture's own leak check,
made with `ctr`, passes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.types import LeaseId, NewContainer
from reconciler.model import labels
from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import BuiltImage, write_layout
from tests.support.polling import eventually
from tests.support.processes import free_port

SLEEPER = """\
SERVICE {name}
  FROM ./img
  CMD sleep 1000
  TIMEOUT_STOP 1s
"""


@dataclass(frozen=True, kw_only=True)
class Project:
    directory: Path
    containerd: NamespacedContainerd
    state: Path

    @property
    def orchfile(self) -> Path:
        return self.directory / "Orchfile"

    @property
    def state_dir(self) -> Path:
        return self.state / "projects" / self.containerd.namespace / "app"

    def write(self, *names: str) -> None:
        self.orchfile.write_text("\n".join(SLEEPER.format(name=n) for n in names))

    def cli(self, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        capsys.readouterr()
        code = main([*args, "-f", str(self.orchfile), "--project", "app"])
        return code, capsys.readouterr().out

    def leak_check(
        self, *args: str, capsys: pytest.CaptureFixture[str]
    ) -> tuple[int, str, dict[str, object], ET.Element]:
        code, text = self.cli("leak-check", *args, capsys=capsys)
        json_code, raw = self.cli("leak-check", "-o", "json", *args, capsys=capsys)
        junit_code, xml = self.cli("leak-check", "-o", "junit", *args, capsys=capsys)
        assert code == json_code == junit_code
        return code, text, json.loads(raw), ET.fromstring(xml)

    def client(self) -> ContainerdClient:
        return ContainerdClient(
            address=self.containerd.address, namespace=self.containerd.namespace
        )

    def delete_record(self, container_id: str) -> None:
        """Delete the container's record behind the reconciler's back (its task stays)."""

        async def delete() -> None:
            async with self.client() as client:
                await client.containers.delete(container_id)

        asyncio.run(delete())

    def restore_record(self, container_id: str, service: str) -> None:
        """A record with the same id lets the task be torn down (docs/containerd.md,
        "What the API does not show"); ours, so that `down` removes task, record and
        snapshot."""

        async def create() -> None:
            async with self.client() as client:
                await client.containers.create(
                    NewContainer(
                        id=container_id,
                        spec=b'{"ociVersion":"1.0.2"}',
                        labels={**labels.ours(), labels.PROJECT: "app", labels.SERVICE: service},
                        snapshotter="overlayfs",
                        snapshot_key=container_id,
                    )
                )

        asyncio.run(create())


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
    monkeypatch.setenv("CONTAINERD_ADDRESS", str(containerd.socket))
    monkeypatch.setenv("RECONCILER_NAMESPACE", containerd.namespace)
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(made.state))
    yield made
    if made.orchfile.exists():
        main(["down", "-f", str(made.orchfile), "--project", "app"])
    containerd.ctr("images", "rm", "--sync", busybox_image.reference)


NETWORK_CLASSES = ("network-namespaces", "veths", "ipam-allocations", "port-mappings", "bridges")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="networks are made and checked as root")


def leaked_ids(tree: dict[str, object], leak_class: str) -> list[str]:
    classes = tree["classes"]
    assert isinstance(classes, dict)
    return [item["id"] for item in classes[leak_class]["leaked"]]


def failed_cases(suite: ET.Element) -> set[str]:
    return {
        case.attrib["name"] for case in suite.iter("testcase") if case.find("failure") is not None
    }


def assert_reported(
    project: Project, capsys: pytest.CaptureFixture[str], leak_class: str, item: str
) -> None:
    code, text, tree, suite = project.leak_check(capsys=capsys)
    assert code == 1, text
    assert f"{leak_class}: {item}" in text
    assert item in leaked_ids(tree, leak_class)
    assert tree["result"] == "leaked"
    assert leak_class in failed_cases(suite)


def test_after_apply_and_down_nothing_is_leaked(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write("web", "worker")
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    assert project.cli("down", capsys=capsys)[0] == 0

    code, text, tree, suite = project.leak_check(capsys=capsys)

    assert code in (0, 2), text  # 2 only when not root (cgroups unchecked)
    assert tree["leaked"] == 0
    assert not failed_cases(suite)
    if os.geteuid() == 0:
        assert code == 0
        assert text.startswith("no leaks")
        classes = tree["classes"]
        assert isinstance(classes, dict)
        for name in NETWORK_CLASSES:
            assert classes[name] == {"checked": True, "reason": None, "leaked": [], "kept": []}, (
                name
            )


def test_a_container_of_a_removed_service_and_its_log_are_reported(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write("web", "old")
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    project.write("web")

    code, text, tree, suite = project.leak_check(capsys=capsys)

    assert code == 1, text
    assert leaked_ids(tree, "containers") == ["app-old"]
    assert leaked_ids(tree, "tasks") == ["app-old"]
    assert leaked_ids(tree, "log-files") == [str(project.state_dir / "logs" / "old.log")]
    assert {"containers", "tasks", "log-files"} <= failed_cases(suite)
    assert "containers: app-old (service 'old' is not desired)" in text
    project.write("web", "old")


def test_a_stray_snapshot_with_our_labels_is_reported(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write("web")

    async def plant() -> None:
        async with project.client() as client:
            await client.snapshots.prepare("app-stray", labels=labels.ours())

    asyncio.run(plant())
    try:
        assert_reported(project, capsys, "snapshots", "app-stray")
    finally:
        project.containerd.ctr("snapshots", "rm", "app-stray")


def test_an_old_lease_of_ours_is_reported(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write("web")

    async def plant() -> None:
        async with project.client() as client:
            await client.leases.create(
                LeaseId("ours-forever"), expires_at=None, labels=labels.ours()
            )

    asyncio.run(plant())
    try:
        assert_reported(project, capsys, "leases", "ours-forever")
    finally:
        project.containerd.ctr("leases", "rm", "ours-forever")


def test_a_task_whose_container_record_was_deleted_is_reported(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write("web")
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0

    project.delete_record("app-web")
    try:
        code, text, tree, suite = project.leak_check(capsys=capsys)
        assert code == 1, text
        assert leaked_ids(tree, "tasks") == ["app-web"]
        assert "container record gone" in text
        assert "tasks" in failed_cases(suite)
    finally:
        project.restore_record("app-web", "web")


@as_root
def test_a_containers_network_is_reported_when_its_record_is_deleted_behind_our_back(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.orchfile.write_text(
        SLEEPER.format(name="web") + f"  PUBLISH 127.0.0.1:{free_port()}:80\n"
    )
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    code, text, tree, _ = project.leak_check(capsys=capsys)
    assert code == 0, text  # attached and held: nothing of the network is a leak

    project.delete_record("app-web")
    try:
        code, text, tree, suite = project.leak_check(capsys=capsys)
        assert code == 1, text
        assert leaked_ids(tree, "network-namespaces") == [
            f"orch-{project.containerd.namespace}--app-web"
        ]
        assert len(leaked_ids(tree, "veths")) == 1
        (allocation,) = leaked_ids(tree, "ipam-allocations")
        assert allocation.startswith(str(project.state_dir / "network" / "ipam"))
        # The container's mappings, and the network's masquerading rule: no container
        # of the project is left to need it.
        assert leaked_ids(tree, "port-mappings") == [
            "app-web",
            f"orch-{project.containerd.namespace}-app",
        ]
        assert len(leaked_ids(tree, "bridges")) == 1
        assert set(NETWORK_CLASSES) <= failed_cases(suite)
    finally:
        project.restore_record("app-web", "web")
    assert project.cli("down", capsys=capsys)[0] == 0
    code, text, _, _ = project.leak_check(capsys=capsys)
    assert code == 0, text


@as_root
def test_a_network_namespace_named_for_a_project_container_is_reported(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write("web")
    name = f"orch-{project.containerd.namespace}--app-ghost"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        assert_reported(project, capsys, "network-namespaces", name)
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=True)


def test_volume_and_log_of_a_removed_service_are_reported_not_deleted(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write("web")
    volume = project.state_dir / "volumes" / "olddata"
    log = project.state_dir / "logs" / "gone.log"
    volume.mkdir(parents=True)
    log.parent.mkdir(parents=True)
    log.write_text("bye\n")

    code, text, tree, suite = project.leak_check(capsys=capsys)

    assert code == 1, text
    assert leaked_ids(tree, "volumes") == [str(volume)]
    assert leaked_ids(tree, "log-files") == [str(log)]
    assert {"volumes", "log-files"} <= failed_cases(suite)
    assert volume.is_dir()
    assert log.exists()


def test_foreign_objects_in_the_namespace_are_never_reported(
    project: Project,
    busybox_image: BuiltImage,
    busybox_archive: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctr = project.containerd.ctr
    project.write("web")
    ctr("images", "import", str(busybox_archive))
    ctr("run", "-d", busybox_image.reference, "app-foreign", "sleep", "1000")
    ctr("run", "-d", busybox_image.reference, "plain", "sleep", "1000")
    ctr("snapshots", "prepare", "app-unlabelled-snap", "")
    ctr("leases", "create", "--id", "plain-lease")
    try:
        for orchfile in ("valid", "missing"):
            if orchfile == "missing":
                project.orchfile.rename(project.directory / "Orchfile.off")
            code, text, tree, _ = project.leak_check(capsys=capsys)
            assert tree["leaked"] == 0, text
            assert code in (0, 2)
        project.orchfile.parent.joinpath("Orchfile.off").rename(project.orchfile)
        code, text, tree, _ = project.leak_check("--all-projects", capsys=capsys)
        assert tree["leaked"] == 0, text
    finally:
        for container in ("app-foreign", "plain"):
            ctr("tasks", "kill", "-s", "SIGKILL", container)
            eventually(lambda c=container: "STOPPED" in ctr("tasks", "ls"), timeout=10)
            ctr("tasks", "rm", container)
            ctr("containers", "rm", container)
        ctr("snapshots", "rm", "app-unlabelled-snap")
        ctr("leases", "rm", "plain-lease")


STUBBORN = """\
SERVICE web
  FROM ./img
  CMD sh -c 'trap "" TERM; while true; do sleep 1; done'
  TIMEOUT_STOP 3s
  STDOUT {logs}/web.log
  STDERR {logs}/web.log
"""


def test_settle_returns_as_soon_as_a_teardown_in_progress_finishes(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project.orchfile.write_text(STUBBORN.format(logs=tmp_path))
    assert project.cli("apply", "--wait", "--timeout", "60s", capsys=capsys)[0] == 0
    down = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "down",
            "-f",
            str(project.orchfile),
            "--project",
            "app",
        ],
        env=os.environ.copy(),
    )
    started = time.monotonic()
    gone = project.directory / "gone" / "Orchfile"  # no Orchfile: everything of app is a leak
    capsys.readouterr()
    code = main(["leak-check", "--settle", "60s", "-f", str(gone), "--project", "app"])
    elapsed = time.monotonic() - started
    text = capsys.readouterr().out

    assert down.wait(timeout=30) == 0
    assert code in (0, 2), text
    assert "no leaks" in text
    assert elapsed > 2  # it waited for the SIGTERM-ignoring task to be killed
    assert elapsed < 20  # the teardown takes TIMEOUT_STOP (3 s), far below --settle
    assert time.monotonic() - started - elapsed < 5  # down had just finished
