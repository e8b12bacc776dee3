"""A container's volumes: named ones made once under the state dir, never through a link;
bind sources resolved to what the Orchfile names, following only links nobody else could
have planted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.drivers.containerd.types import Mount
from reconciler.drivers.containerd.volumes import prepare
from reconciler.errors import UnsafePath
from reconciler.model.desired import (
    BindMount,
    DesiredService,
    NamedVolume,
    ServiceMode,
    ServiceName,
    Volume,
)

OTHER_USER = 65534


def service_with(*volumes: Volume) -> DesiredService:
    return DesiredService(
        name=ServiceName("web"),
        mode=ServiceMode.CONTAINER,
        volumes=volumes,
        stdout=Path("/tmp/web.log"),
        stderr=Path("/tmp/web.log"),
    )


def named(volume: Path) -> NamedVolume:
    return NamedVolume(name="data", host_path=volume, destination="/data")


def test_a_new_volume_takes_the_mode_of_the_images_directory(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    (layer / "data").mkdir(parents=True)
    (layer / "data").chmod(0o1777)
    volume = tmp_path / "volumes" / "data"

    prepare(service_with(named(volume)), [Mount(type="bind", source=str(layer))])

    assert oct(volume.stat().st_mode & 0o7777) == "0o1777"
    assert oct(volume.parent.stat().st_mode & 0o7777) == "0o700"


def test_a_new_volume_without_a_directory_in_the_image_is_0755(tmp_path: Path) -> None:
    volume = tmp_path / "volumes" / "data"

    prepare(service_with(named(volume)), [])

    assert oct(volume.stat().st_mode & 0o7777) == "0o755"


@pytest.mark.parametrize("target", ["/etc", "/nonexistent/place"])
def test_a_volume_that_is_a_symbolic_link_is_refused(tmp_path: Path, target: str) -> None:
    volume = tmp_path / "volumes" / "data"
    volume.parent.mkdir()
    os.symlink(target, volume)

    with pytest.raises(UnsafePath, match="named volume 'data' is a symbolic link"):
        prepare(service_with(named(volume)), [])


def test_a_link_above_a_volume_is_refused_and_nothing_is_made_where_it_points(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "project").mkdir()
    os.symlink(elsewhere, tmp_path / "project" / "volumes")
    volume = tmp_path / "project" / "volumes" / "data"

    with pytest.raises(UnsafePath, match=r"named volume 'data': .*/volumes is a symbolic link"):
        prepare(service_with(named(volume)), [])
    assert list(elsewhere.iterdir()) == []


def test_a_bind_source_through_our_own_link_is_mounted_as_the_path_it_names(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "link")

    prepared = prepare(
        service_with(BindMount(source=tmp_path / "link" / "sub", destination="/d")), []
    )

    assert prepared.volumes == (BindMount(source=real / "sub", destination="/d"),)


@pytest.mark.skipif(os.geteuid() != 0, reason="lchown to another user needs root")
def test_a_bind_source_through_another_users_link_is_refused_naming_it(tmp_path: Path) -> None:
    link = tmp_path / "link"
    os.symlink("/etc", link)
    os.lchown(link, OTHER_USER, OTHER_USER)

    with pytest.raises(UnsafePath, match=rf"VOLUME source {link}: {link} is a symbolic link owned"):
        prepare(service_with(BindMount(source=link, destination="/d")), [])


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
