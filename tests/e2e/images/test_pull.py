"""Pulling from the local registries (open and token-protected), checked with ``ctr``."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path

import pytest

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.images.auth import Credentials
from reconciler.drivers.containerd.images.ingest import BlobProgress
from reconciler.drivers.containerd.images.registry_options import RegistryOptions
from reconciler.drivers.containerd.images.store import ImageService, ImageSettings
from reconciler.model.secret import Secret
from tests.e2e.images.conftest import FAST_RETRY, CallCounter
from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import BuiltImage, ImageSpec, MediaTypes, build_image, write_layout
from tests.support.polling import eventually
from tests.support.registry import Registry
from tests.support.token_server import TokenServer

pytestmark = pytest.mark.asyncio


def run_word(containerd: NamespacedContainerd, reference: str) -> str:
    return containerd.ctr("run", "--rm", reference, "pulled", "echo", "word")


async def test_a_tag_pulled_from_the_open_registry_is_listed_by_ctr_and_runs(
    containerd: NamespacedContainerd,
    images: ImageService,
    registry: Registry,
    busybox_layout: Path,
    busybox_image: BuiltImage,
) -> None:
    reference = registry.push(busybox_layout, busybox_image.tag, "pull/busybox:1")

    resolved = await images.pull(reference)

    assert resolved.name == reference
    assert resolved.manifest_digest == busybox_image.manifest.digest
    assert resolved.chain_id == busybox_image.chain_id
    assert containerd.ctr("images", "ls", "-q").split() == [reference]
    assert run_word(containerd, reference) == "word\n"


async def test_a_digest_reference_pulls_the_manifest_it_names(
    containerd: NamespacedContainerd,
    images: ImageService,
    registry: Registry,
    busybox_layout: Path,
    busybox_image: BuiltImage,
) -> None:
    pushed = registry.push(busybox_layout, busybox_image.tag, "pull/bydigest:1")
    reference = f"{pushed.rpartition(':')[0]}@{busybox_image.manifest.digest}"

    resolved = await images.pull(reference)

    assert resolved.name == reference
    assert resolved.target.digest == busybox_image.manifest.digest
    assert run_word(containerd, reference) == "word\n"


async def test_a_docker_schema_2_image_pulls_and_runs(
    containerd: NamespacedContainerd,
    images: ImageService,
    registry: Registry,
    busybox_layout: Path,
    busybox_image: BuiltImage,
) -> None:
    reference = registry.push(
        busybox_layout, busybox_image.tag, "pull/bbdocker:1", docker_format=True
    )

    resolved = await images.pull(reference)

    assert resolved.target.media_type == MediaTypes.DOCKER.manifest
    assert resolved.chain_id == busybox_image.chain_id
    assert run_word(containerd, reference) == "word\n"


async def test_a_multi_platform_index_pulls_only_the_host_manifest(
    containerd: NamespacedContainerd, images: ImageService, registry: Registry, tmp_path: Path
) -> None:
    image = build_image(ImageSpec(name="bbmulti:1", multi_platform=True))
    layout = write_layout(image, tmp_path / "multi")
    reference = registry.push(layout, image.tag, "pull/bbmulti:1", all_platforms=True)

    resolved = await images.pull(reference)

    assert resolved.target.digest == image.target.digest
    assert resolved.manifest_digest == image.manifest.digest
    blobs = containerd.ctr("content", "ls", "-q").split()
    other_manifests = [
        entry["digest"]
        for entry in json.loads(image.blobs[image.target.digest])["manifests"]
        if entry["digest"] != image.manifest.digest
    ]
    assert other_manifests
    assert not set(other_manifests) & set(blobs)
    assert run_word(containerd, reference) == "word\n"


@pytest.fixture
def token_login(token_registry: Registry) -> Credentials:
    assert token_registry.auth is not None
    return Credentials(
        username=token_registry.auth.username, password=Secret(token_registry.auth.password)
    )


@pytest.fixture
def secret_reference(
    token_registry: Registry, busybox_layout: Path, busybox_image: BuiltImage
) -> str:
    return token_registry.push(busybox_layout, busybox_image.tag, "secret/busybox:1")


async def test_the_token_registry_is_pulled_with_explicit_credentials(
    containerd: NamespacedContainerd,
    images: ImageService,
    token_server: TokenServer,
    secret_reference: str,
    token_login: Credentials,
) -> None:
    await images.pull(secret_reference, credentials=token_login)

    assert run_word(containerd, secret_reference) == "word\n"
    assert "POST /token 200" in token_server.requests


@pytest.fixture
def docker_config_login(
    docker_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    secret_reference: str,
    token_login: Credentials,
) -> Path:
    """``DOCKER_CONFIG`` set to a temporary folder whose config.json has the login."""
    login = f"{token_login.username}:{token_login.password.reveal()}".encode()
    host = secret_reference.partition("/")[0]
    auths = {host: {"auth": base64.b64encode(login).decode()}}
    docker_config.parent.mkdir(parents=True, exist_ok=True)
    docker_config.write_text(json.dumps({"auths": auths}))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config.parent))
    return docker_config


async def test_the_token_registry_is_pulled_with_credentials_from_docker_config(
    containerd: NamespacedContainerd,
    client: ContainerdClient,
    secret_reference: str,
    docker_config_login: Path,
) -> None:
    assert docker_config_login.parent == Path(os.environ["DOCKER_CONFIG"])
    images = ImageService(client, settings=ImageSettings())

    await images.pull(secret_reference)

    assert run_word(containerd, secret_reference) == "word\n"


async def test_repulling_a_present_image_writes_and_prepares_nothing(
    images: ImageService,
    counter: CallCounter,
    registry: Registry,
    busybox_layout: Path,
    busybox_image: BuiltImage,
) -> None:
    reference = registry.push(busybox_layout, busybox_image.tag, "pull/again:1")
    first = await images.pull(reference)
    counter.reset()

    again = await images.pull(reference)

    assert again == first
    assert sum(counter.calls.values()) == 0, counter.calls


async def test_progress_is_reported_per_blob_up_to_its_size(
    client: ContainerdClient, registry: Registry, tmp_path: Path
) -> None:
    image = build_image(ImageSpec(name="bbpad:progress", pad_mb=3))
    reference = registry.push(write_layout(image, tmp_path / "pad"), image.tag, "pull/pad:1")
    reports: list[BlobProgress] = []
    settings = ImageSettings(
        docker_config=tmp_path / "none.json", registry=RegistryOptions(retry=FAST_RETRY)
    )
    images = ImageService(client, settings=settings, on_progress=reports.append)

    await images.pull(reference)

    finals = {report.digest: report for report in reports if report.done == report.total}
    assert set(finals) >= {layer.digest for layer in image.layers}
    padded = max(image.layers, key=lambda layer: len(layer.blob))
    steps = [report.done for report in reports if report.digest == padded.digest]
    assert len(steps) > 1
    assert steps == sorted(steps)


async def test_a_pull_cancelled_mid_blob_leaves_no_lease_and_gc_leaves_nothing_of_it(
    containerd: NamespacedContainerd, client: ContainerdClient, registry: Registry, tmp_path: Path
) -> None:
    image = build_image(ImageSpec(name="bbpad:cancel", pad_mb=8))
    reference = registry.push(write_layout(image, tmp_path / "pad"), image.tag, "pull/cancel:1")
    started = asyncio.Event()

    def on_progress(report: BlobProgress) -> None:
        if 0 < report.done < report.total:
            started.set()

    settings = ImageSettings(
        docker_config=tmp_path / "none.json", registry=RegistryOptions(retry=FAST_RETRY)
    )
    images = ImageService(client, settings=settings, on_progress=on_progress)
    pull = asyncio.create_task(images.pull(reference))
    await asyncio.wait_for(started.wait(), timeout=30)
    pull.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pull

    assert containerd.ctr("leases", "ls", "-q").strip() == ""
    assert containerd.ctr("images", "ls", "-q").strip() == ""
    containerd.ctr("leases", "create", "--id", "trigger-gc")
    containerd.ctr("leases", "rm", "--sync", "trigger-gc")

    def nothing_left() -> bool:
        assert containerd.ctr("content", "ls", "-q").split() == []
        assert containerd.ctr("snapshots", "ls").splitlines()[1:] == []
        assert containerd.ctr("content", "active").splitlines()[1:] == []
        return True

    eventually(nothing_left, timeout=10, what="GC collected the cancelled pull")
