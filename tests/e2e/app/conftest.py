"""No test here may leave an asyncio task behind: every owner cancels what it started.
`embedded_run` is a `run` on its own embedded containerd."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.app.embedded import EmbeddedContainerd
from tests.support.oci_image import BuiltImage, write_layout
from tests.support.processes import terminate
from tests.support.run_process import RunProcess
from tests.support.tasks import no_leftover_tasks

__all__ = ["no_leftover_tasks"]


@pytest.fixture
def embedded_run(
    busybox_image: BuiltImage, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunProcess]:
    """`run` on its own embedded containerd (no address given, no system daemon)."""
    if Path("/run/containerd/containerd.sock").exists():
        pytest.skip("a system containerd would be chosen over the embedded one")
    state = tmp_path_factory.mktemp("emb")  # short: the daemon's socket lives under it
    directory = tmp_path / "app"
    directory.mkdir()
    write_layout(busybox_image, directory / "img")
    process = RunProcess(directory, None, state, namespace=f"emb-{os.getpid()}")
    yield process
    try:
        process.down_and_check_leaks()
    finally:
        if process.alive:
            process.stop()
        daemon = EmbeddedContainerd.under(state)
        if (pid := daemon.pid()) is not None:
            terminate(pid, grace=10)
