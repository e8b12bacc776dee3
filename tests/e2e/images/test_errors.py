"""Bad input fails with one clear line naming the image and leaves nothing half-written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.drivers.containerd.images.auth import Credentials
from reconciler.drivers.containerd.images.store import ImageService
from reconciler.errors import (
    ImageDigestMismatch,
    ImageError,
    ImageNotFound,
    RegistryAuthError,
    RegistryUnavailable,
)
from reconciler.model.secret import Secret
from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import BuiltImage
from tests.support.processes import free_port
from tests.support.registry import Registry

pytestmark = pytest.mark.asyncio


def assert_nothing_recorded(containerd: NamespacedContainerd) -> None:
    """No image record and no lease; blobs left over must be collectable by GC."""
    assert containerd.ctr("images", "ls", "-q").strip() == ""
    assert containerd.ctr("leases", "ls", "-q").strip() == ""
    containerd.ctr("leases", "create", "--id", "trigger-gc")
    containerd.ctr("leases", "rm", "--sync", "trigger-gc")
    assert containerd.ctr("content", "ls", "-q").split() == []
    assert containerd.ctr("snapshots", "ls").splitlines()[1:] == []


def truncated_copy(archive: Path, destination: Path) -> Path:
    data = archive.read_bytes()
    destination.write_bytes(data[: len(data) // 2])
    return destination


def tampered_copy(layout: Path, destination: Path, digest: str) -> Path:
    """The layout with one byte of blob ``digest`` flipped (same size, wrong digest)."""
    tampered = Path(shutil.copytree(layout, destination))
    blob = tampered / "blobs" / "sha256" / digest.removeprefix("sha256:")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    return tampered


def one_line(error: BaseException) -> str:
    message = str(error)
    assert "\n" not in message
    return message


async def test_a_missing_path_is_image_not_found_naming_it(
    containerd: NamespacedContainerd, images: ImageService, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.tar"

    with pytest.raises(ImageNotFound) as raised:
        await images.ensure_image(missing)

    assert str(missing) in one_line(raised.value)
    assert_nothing_recorded(containerd)


async def test_a_file_that_is_not_a_tar_is_refused(
    containerd: NamespacedContainerd, images: ImageService, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.tar"
    corrupt.write_bytes(b"this is no tar archive\n" * 100)

    with pytest.raises(ImageError, match="not a readable tar archive") as raised:
        await images.import_image(corrupt)

    assert str(corrupt) in one_line(raised.value)
    assert_nothing_recorded(containerd)


async def test_a_truncated_archive_is_refused(
    containerd: NamespacedContainerd, images: ImageService, busybox_archive: Path, tmp_path: Path
) -> None:
    truncated = truncated_copy(busybox_archive, tmp_path / "truncated.tar")

    with pytest.raises(ImageError) as raised:
        await images.import_image(truncated)

    assert str(truncated) in one_line(raised.value)
    assert_nothing_recorded(containerd)


async def test_a_layer_whose_bytes_do_not_match_its_digest_commits_nothing(
    containerd: NamespacedContainerd,
    images: ImageService,
    busybox_layout: Path,
    busybox_image: BuiltImage,
    tmp_path: Path,
) -> None:
    layer = busybox_image.layers[0]
    tampered = tampered_copy(busybox_layout, tmp_path / "tampered", layer.digest)

    with pytest.raises(ImageDigestMismatch) as raised:
        await images.import_image(tampered)

    message = one_line(raised.value)
    assert busybox_image.reference in message
    assert layer.digest in message
    assert_nothing_recorded(containerd)


async def test_an_unknown_tag_is_image_not_found_naming_image_and_registry(
    containerd: NamespacedContainerd, images: ImageService, registry: Registry
) -> None:
    reference = f"{registry.host}/nothing/here:404"

    with pytest.raises(ImageNotFound) as raised:
        await images.pull(reference)

    message = one_line(raised.value)
    assert reference in message
    assert registry.host in message
    assert_nothing_recorded(containerd)


async def test_a_refused_connection_is_registry_unavailable_naming_the_host(
    containerd: NamespacedContainerd, images: ImageService
) -> None:
    host = f"127.0.0.1:{free_port()}"

    with pytest.raises(RegistryUnavailable) as raised:
        await images.pull(f"{host}/busybox:1")

    assert host in one_line(raised.value)
    assert_nothing_recorded(containerd)


async def test_an_unknown_registry_host_is_registry_unavailable_naming_it(
    containerd: NamespacedContainerd, images: ImageService
) -> None:
    with pytest.raises(RegistryUnavailable) as raised:
        await images.pull("no-such-registry.invalid/team/app:1")

    assert "no-such-registry.invalid" in one_line(raised.value)
    assert_nothing_recorded(containerd)


async def test_wrong_credentials_are_refused_with_registry_auth_error(
    containerd: NamespacedContainerd,
    images: ImageService,
    token_registry: Registry,
    busybox_layout: Path,
    busybox_image: BuiltImage,
) -> None:
    reference = token_registry.push(busybox_layout, busybox_image.tag, "secret/wrong:1")
    wrong = Credentials(username="alice", password=Secret("not-the-password"))

    with pytest.raises(RegistryAuthError) as raised:
        await images.pull(reference, credentials=wrong)

    message = one_line(raised.value)
    assert reference in message
    assert "401" in message
    assert "not-the-password" not in message
    assert_nothing_recorded(containerd)


async def test_no_credentials_for_the_token_registry_is_registry_auth_error(
    containerd: NamespacedContainerd,
    images: ImageService,
    token_registry: Registry,
    busybox_layout: Path,
    busybox_image: BuiltImage,
) -> None:
    reference = token_registry.push(busybox_layout, busybox_image.tag, "secret/anonymous:1")

    with pytest.raises(RegistryAuthError, match="anonymous") as raised:
        await images.pull(reference)

    assert token_registry.host in one_line(raised.value)
    assert_nothing_recorded(containerd)
