"""Fixtures of the reliability suite: a project folder driven through the CLI, on the
shared daemon or on a private containerd the test may kill.

Every module here marks its tests ``slow`` (run them alone with ``pytest -m slow``, skip
them with ``-m 'not slow'``). Each ends like a CI job: `down`, then `leak-check` must exit 0, then
the namespace fixture's own check with `ctr`.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.e2e.conftest import namespace_for
from tests.support.containerd import NamespacedContainerd, PrivateContainerd
from tests.support.leaks import leftovers, purge
from tests.support.oci_image import BuiltImage, write_layout

PROJECT = "app"


@dataclass(frozen=True, kw_only=True)
class Result:
    code: int
    out: str
    err: str


@dataclass(frozen=True, kw_only=True)
class Stack:
    """A project folder (`app/` with the busybox layout in `img/`) and how to drive it."""

    directory: Path
    containerd: NamespacedContainerd
    state: Path

    @property
    def orchfile(self) -> Path:
        return self.directory / "Orchfile"

    @property
    def env(self) -> dict[str, str]:
        return {
            "CONTAINERD_ADDRESS": str(self.containerd.socket),
            # Its state dir, which lets the reconciler clear a task bundle that the daemon,
            # killed mid-create, leaves behind (see ContainerLifecycle.start).
            "CONTAINERD_STATE": str(self.containerd.state),
            "RECONCILER_NAMESPACE": self.containerd.namespace,
            "RECONCILER_STATE_DIR": str(self.state),
        }

    def write(self, text: str) -> None:
        self.orchfile.write_text(text)

    def cli(self, *args: str) -> Result:
        """The command in this process (`reconciler.cli.main`), its output captured."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*args, "--file", str(self.orchfile), "--project", PROJECT])
        return Result(code=code, out=out.getvalue(), err=err.getvalue())

    def command(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "reconciler",
            *args,
            "-f",
            str(self.orchfile),
            "--project",
            PROJECT,
        ]

    def spawn(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as sink:
            return subprocess.Popen(
                self.command(*args),
                env={**os.environ, **self.env},
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def containers(self) -> list[str]:
        return sorted(self.containerd.ctr("containers", "ls", "-q").split())

    def tasks(self) -> dict[str, str]:
        rows = self.containerd.ctr("tasks", "ls").splitlines()[1:]
        return {fields[0]: fields[2] for fields in (row.split() for row in rows)}

    def running(self) -> list[str]:
        return sorted(name for name, state in self.tasks().items() if state == "RUNNING")

    def down_and_check(self) -> None:
        """`down`, then `leak-check` in all its formats must find nothing."""
        done = self.cli("down")
        assert done.code == 0, done.out + done.err
        for output in ("text", "json", "junit"):
            checked = self.cli("leak-check", "--settle", "10s", "-o", output)
            assert checked.code == 0, checked.out + checked.err


def make_stack(containerd: NamespacedContainerd, image: BuiltImage, tmp_path: Path) -> Stack:
    directory = tmp_path / PROJECT
    directory.mkdir()
    write_layout(image, directory / "img")
    return Stack(directory=directory, containerd=containerd, state=tmp_path / "state")


@pytest.fixture
def stack(
    containerd: NamespacedContainerd,
    busybox_image: BuiltImage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Stack]:
    """A project on the shared daemon; the environment points the in-process CLI at it."""
    made = make_stack(containerd, busybox_image, tmp_path)
    for key, value in made.env.items():
        monkeypatch.setenv(key, value)
    yield made
    if made.orchfile.exists():
        made.down_and_check()
    containerd.ctr("images", "rm", "--sync", busybox_image.reference)


@pytest.fixture
def private_daemon(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[NamespacedContainerd]:
    """A containerd of this test alone, *not started*: the test starts, kills and restarts
    it. At the end the namespace must be empty (checked with `ctr`), then it is wiped and
    the daemon stopped."""
    daemon = PrivateContainerd(directory=tmp_path_factory.mktemp("pctd").resolve())
    view = NamespacedContainerd(daemon=daemon, namespace=namespace_for(request.node.name))
    yield view
    try:
        if daemon.pid() is None:
            daemon.start()
        left = leftovers(view.ctr)
        purge(view.ctr, view.namespace)
    finally:
        daemon.stop()
    if left:
        pytest.fail(f"test left in namespace {view.namespace}: {', '.join(map(str, left))}")
