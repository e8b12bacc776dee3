"""What real registries rarely do, done by a fake one: bad bytes, 503s, redirects, tokens."""

from __future__ import annotations

import pytest

from reconciler.drivers.containerd.images.store import ImageService
from reconciler.errors import ImageDigestMismatch
from tests.support.containerd import NamespacedContainerd
from tests.support.fake_registry import TOKEN, FakeRegistry, serving
from tests.support.oci_image import BuiltImage

pytestmark = pytest.mark.asyncio


async def test_a_blob_served_with_wrong_bytes_is_a_digest_mismatch_and_commits_nothing(
    containerd: NamespacedContainerd, images: ImageService, busybox_image: BuiltImage
) -> None:
    layer = busybox_image.layers[0]
    tampered = bytearray(layer.blob)
    tampered[len(tampered) // 2] ^= 0xFF
    fake = FakeRegistry(image=busybox_image, replaced_blobs={layer.digest: bytes(tampered)})

    async with serving(fake):
        with pytest.raises(ImageDigestMismatch) as raised:
            await images.pull(fake.reference)

    assert layer.digest in str(raised.value)
    assert fake.host in str(raised.value)
    assert containerd.ctr("images", "ls", "-q").strip() == ""
    assert containerd.ctr("leases", "ls", "-q").strip() == ""
    assert layer.digest not in containerd.ctr("content", "ls", "-q")


async def test_a_tampered_manifest_is_refused_before_it_is_parsed(
    images: ImageService, busybox_image: BuiltImage
) -> None:
    manifest = busybox_image.manifest.digest
    fake = FakeRegistry(
        image=busybox_image,
        replaced_blobs={manifest: busybox_image.blobs[manifest].replace(b"layers", b"Layers")},
    )

    async with serving(fake):
        with pytest.raises(ImageDigestMismatch, match="does not match"):
            await images.pull(f"{fake.host}/{fake.repository}@{manifest}")


async def test_service_unavailable_answers_are_retried_until_the_pull_succeeds(
    containerd: NamespacedContainerd, images: ImageService, busybox_image: BuiltImage
) -> None:
    fake = FakeRegistry(image=busybox_image, failures_left=1)

    async with serving(fake):
        resolved = await images.pull(fake.reference)

    assert resolved.chain_id == busybox_image.chain_id
    assert [entry.path for entry in fake.log[:2]] == [fake.log[1].path] * 2


async def test_the_bearer_token_is_not_sent_to_the_host_a_blob_redirects_to(
    images: ImageService, busybox_image: BuiltImage
) -> None:
    fake = FakeRegistry(image=busybox_image, require_token=True, redirect_blobs=True)

    async with serving(fake):
        await images.pull(fake.reference)

    redirected = [entry for entry in fake.log if entry.port == fake.blob_port]
    assert redirected
    assert all(entry.authorization == "" for entry in redirected)
    own = [entry for entry in fake.log if entry.port == fake.port and "/blobs/" in entry.path]
    assert own
    assert all(entry.authorization == f"Bearer {TOKEN}" for entry in own)
