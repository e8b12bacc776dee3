"""Named volumes are created once under the state dir, and never through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.drivers.containerd.creation import _create_named_volumes
from reconciler.drivers.containerd.types import Mount
from reconciler.errors import ServiceConfigError
from reconciler.model.desired import DesiredService, NamedVolume, ServiceMode, ServiceName


def service_with(volume: Path) -> DesiredService:
    return DesiredService(
        name=ServiceName("web"),
        mode=ServiceMode.CONTAINER,
        volumes=(NamedVolume(name="data", host_path=volume, destination="/data"),),
        stdout=Path("/tmp/web.log"),
        stderr=Path("/tmp/web.log"),
    )


def test_a_new_volume_takes_the_mode_of_the_images_directory(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    (layer / "data").mkdir(parents=True)
    (layer / "data").chmod(0o1777)
    volume = tmp_path / "volumes" / "data"

    _create_named_volumes(service_with(volume), [Mount(type="bind", source=str(layer))])

    assert oct(volume.stat().st_mode & 0o7777) == "0o1777"


@pytest.mark.parametrize("target", ["/etc", "/nonexistent/place"])
def test_a_volume_that_is_a_symbolic_link_is_refused(tmp_path: Path, target: str) -> None:
    volume = tmp_path / "volumes" / "data"
    volume.parent.mkdir()
    os.symlink(target, volume)

    with pytest.raises(ServiceConfigError, match="named volume 'data' is a symbolic link"):
        _create_named_volumes(service_with(volume), [])


class _Client:
    namespace = "ns"
    socket = "/nonexistent/containerd.sock"


def test_a_stale_task_bundle_is_removed_only_without_a_shim_address(tmp_path: Path) -> None:
    from typing import Any

    from reconciler.clock import SystemClock
    from reconciler.drivers.containerd.task_control import TASK_BUNDLES, TaskControl

    client: Any = _Client()
    tasks = TaskControl(client, runtime_state=tmp_path, clock=SystemClock())
    bundle = tmp_path / TASK_BUNDLES / "ns" / "app-web"
    (bundle / "rootfs").mkdir(parents=True)
    (bundle / "config.json").write_text("{}")

    assert tasks.remove_stale_bundle("app-web")
    assert not bundle.exists()

    (bundle / "rootfs").mkdir(parents=True)
    (bundle / "address").write_text("unix:///run/shim.sock")
    assert not tasks.remove_stale_bundle("app-web")
    assert bundle.exists()
    assert not TaskControl(client, runtime_state=None, clock=SystemClock()).remove_stale_bundle(
        "app-web"
    )
