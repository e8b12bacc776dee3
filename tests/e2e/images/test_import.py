"""Importing OCI layouts and archives (``FROM ./path``), checked with containerd's ``ctr``."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.drivers.containerd.images.store import ImageService
from tests.e2e.images.conftest import CallCounter
from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import (
    BuiltImage,
    ImageSpec,
    MediaTypes,
    build_image,
    write_archive,
    write_layout,
)

pytestmark = pytest.mark.asyncio


def content_labels(containerd: NamespacedContainerd) -> dict[str, str]:
    """``ctr content ls`` as digest -> its LABELS column."""
    rows = [line.split() for line in containerd.ctr("content", "ls").splitlines()[1:]]
    return {row[0]: row[-1] for row in rows if row}


async def test_an_imported_archive_is_listed_by_ctr_and_runs(
    containerd: NamespacedContainerd,
    images: ImageService,
    busybox_archive: Path,
    busybox_image: BuiltImage,
) -> None:
    resolved = await images.import_image(busybox_archive)

    assert resolved.name == busybox_image.reference
    listed = containerd.ctr("images", "ls", "-q").split()
    assert listed == [busybox_image.reference]
    output = containerd.ctr("run", "--rm", busybox_image.reference, "imported", "echo", "word")
    assert output == "word\n"


async def test_an_imported_layout_folder_resolves_to_its_digests_config_and_chain_id(
    containerd: NamespacedContainerd,
    images: ImageService,
    busybox_layout: Path,
    busybox_image: BuiltImage,
) -> None:
    resolved = await images.import_image(busybox_layout)

    assert resolved.target.digest == busybox_image.target.digest
    assert resolved.manifest_digest == busybox_image.manifest.digest
    assert resolved.config_digest == busybox_image.config.digest
    assert resolved.chain_id == busybox_image.chain_id
    assert resolved.config.cmd == ("sh",)
    assert resolved.config.env[0].startswith("PATH=")
    snapshots = containerd.ctr("snapshots", "ls")
    assert busybox_image.chain_id in snapshots


async def test_imported_blobs_carry_the_labels_containerd_gc_follows(
    containerd: NamespacedContainerd,
    images: ImageService,
    busybox_archive: Path,
    busybox_image: BuiltImage,
) -> None:
    await images.import_image(busybox_archive)

    labels = content_labels(containerd)
    layer = busybox_image.layers[0]
    assert (
        f"containerd.io/gc.ref.content.config={busybox_image.config.digest}"
        in (labels[busybox_image.manifest.digest])
    )
    assert (
        f"containerd.io/gc.ref.content.l.0={layer.digest}" in labels[busybox_image.manifest.digest]
    )
    assert (
        f"containerd.io/gc.ref.snapshot.overlayfs={busybox_image.chain_id}"
        in labels[busybox_image.config.digest]
    )
    assert f"containerd.io/uncompressed={layer.diff_id}" in labels[layer.digest]
    assert containerd.ctr("leases", "ls", "-q").strip() == ""


async def test_an_explicit_name_overrides_the_layout_annotations(
    containerd: NamespacedContainerd, images: ImageService, busybox_layout: Path
) -> None:
    resolved = await images.import_image(busybox_layout, name="example.com/team/tool:2")

    assert resolved.name == "example.com/team/tool:2"
    assert containerd.ctr("images", "ls", "-q").split() == ["example.com/team/tool:2"]


async def test_a_docker_media_type_multi_platform_layout_imports_the_host_manifest_and_runs(
    containerd: NamespacedContainerd, images: ImageService, tmp_path: Path
) -> None:
    image = build_image(
        ImageSpec(name="bbmulti:docker", media_types=MediaTypes.DOCKER, multi_platform=True)
    )
    archive = write_archive(image, tmp_path / "multi.tar")

    resolved = await images.import_image(archive)

    assert resolved.target.digest == image.target.digest
    assert resolved.manifest_digest == image.manifest.digest
    labels = content_labels(containerd)
    assert (
        f"containerd.io/gc.ref.content.m.0={image.manifest.digest}" in labels[image.target.digest]
    )
    output = containerd.ctr("run", "--rm", image.reference, "multi", "echo", "word")
    assert output == "word\n"


async def test_an_image_with_two_layers_and_a_whiteout_unpacks_like_ctr(
    containerd: NamespacedContainerd, images: ImageService, tmp_path: Path
) -> None:
    from tests.support.oci_layer import FileEntry

    image = build_image(
        ImageSpec(
            name="bbtwo:1",
            extra_files=(FileEntry(path="bin/.wh.yes"), FileEntry(path="etc/motd", data=b"hi\n")),
        )
    )
    layout = write_layout(image, tmp_path / "two")

    resolved = await images.import_image(layout)

    assert resolved.chain_id == image.chain_id
    script = "cat /etc/motd; test -e /bin/yes && echo yes-present || echo yes-gone"
    output = containerd.ctr("run", "--rm", image.reference, "two", "sh", "-c", script)
    assert output == "hi\nyes-gone\n"


async def test_reimporting_a_present_image_writes_and_prepares_nothing(
    images: ImageService, counter: CallCounter, busybox_archive: Path
) -> None:
    first = await images.import_image(busybox_archive)
    counter.reset()

    again = await images.import_image(busybox_archive)

    assert again == first
    assert sum(counter.calls.values()) == 0, counter.calls
