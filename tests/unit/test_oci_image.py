"""The test image builder writes valid, reproducible OCI images."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support.oci_image import (
    CONTAINERD_NAME,
    REF_NAME,
    ImageSpec,
    MediaTypes,
    build_image,
    host_platform,
    normalize_reference,
    write_archive,
    write_layout,
)
from tests.support.oci_layer import APPLETS, BUSYBOX, FileEntry


def layer_members(blob: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
        return {member.name: member for member in tar.getmembers()}


def test_the_same_spec_gives_byte_identical_archives(tmp_path: Path) -> None:
    first = write_archive(build_image(ImageSpec()), tmp_path / "a.tar")
    second = write_archive(build_image(ImageSpec()), tmp_path / "b.tar")

    assert first.read_bytes() == second.read_bytes()


def test_a_different_config_changes_the_manifest_but_not_the_layer() -> None:
    plain = build_image(ImageSpec())
    configured = build_image(ImageSpec(cmd=("sleep", "1000")))

    assert plain.manifest.digest != configured.manifest.digest
    assert plain.layers == configured.layers


def test_every_blob_in_the_layout_is_stored_under_its_own_digest(tmp_path: Path) -> None:
    layout = write_layout(build_image(ImageSpec()), tmp_path / "layout")

    for blob in (layout / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}


def test_the_layout_index_names_the_image_by_tag_and_full_reference(tmp_path: Path) -> None:
    image = build_image(ImageSpec(name="busybox:1"))
    index = json.loads((write_layout(image, tmp_path / "layout") / "index.json").read_text())

    [entry] = index["manifests"]
    assert entry["digest"] == image.manifest.digest
    assert entry["annotations"] == {REF_NAME: "1", CONTAINERD_NAME: "docker.io/library/busybox:1"}


def test_the_config_carries_the_host_platform_path_cmd_and_diff_ids() -> None:
    image = build_image(ImageSpec())
    config = json.loads(image.blobs[image.config.digest])

    assert config["architecture"] == host_platform().architecture
    assert config["os"] == "linux"
    assert config["config"]["Env"][0].startswith("PATH=")
    assert config["config"]["Cmd"] == ["sh"]
    assert config["rootfs"]["diff_ids"] == list(image.diff_ids)
    for layer in image.layers:
        assert "sha256:" + hashlib.sha256(gzip.decompress(layer.blob)).hexdigest() == layer.diff_id


def test_optional_config_fields_appear_only_when_given() -> None:
    spec = ImageSpec(entrypoint=("sh", "-c"), cmd=None, user="1000:1000", working_dir="/tmp")
    image = build_image(spec)
    config = json.loads(image.blobs[image.config.digest])["config"]

    assert config["Entrypoint"] == ["sh", "-c"]
    assert config["User"] == "1000:1000"
    assert config["WorkingDir"] == "/tmp"
    assert "Cmd" not in config
    assert "Labels" not in config


def test_the_base_layer_has_busybox_its_applets_users_and_a_sticky_tmp() -> None:
    members = layer_members(build_image(ImageSpec()).layers[0].blob)

    assert members["bin/busybox"].mode == 0o755
    assert all(members[f"bin/{applet}"].linkname == "busybox" for applet in APPLETS)
    assert members["tmp"].mode == 0o1777
    assert {member.mtime for member in members.values()} == {946_684_800}
    assert {"etc/passwd", "etc/group", "etc/hostname"} <= members.keys()


def test_every_applet_is_one_the_host_busybox_provides() -> None:
    listed = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()

    assert set(APPLETS) <= set(listed)


def test_extra_files_and_padding_become_layers_above_the_base() -> None:
    extra = FileEntry(path="srv/index.html", data=b"hi\n")
    image = build_image(ImageSpec(extra_files=(extra,), pad_mb=3))

    assert len(image.layers) == 3
    assert "srv/index.html" in layer_members(image.layers[1].blob)
    padded = sum(member.size for member in layer_members(image.layers[2].blob).values())
    assert padded == 3 << 20
    # Random filler stays about as large compressed, so benchmarks move real bytes.
    assert len(image.layers[2].blob) > 3 << 20


def test_the_chain_id_of_a_single_layer_is_its_diff_id() -> None:
    image = build_image(ImageSpec())

    assert image.chain_id == image.diff_ids[0]


def test_a_multi_platform_image_is_an_index_of_the_host_and_another_platform() -> None:
    image = build_image(ImageSpec(multi_platform=True))
    index = json.loads(image.blobs[image.target.digest])

    assert image.target.media_type == MediaTypes.OCI.index
    platforms = [entry["platform"]["architecture"] for entry in index["manifests"]]
    assert platforms[0] == host_platform().architecture
    assert len(set(platforms)) == 2
    assert index["manifests"][0]["digest"] == image.manifest.digest


def test_the_docker_variant_uses_docker_schema_2_media_types() -> None:
    image = build_image(ImageSpec(media_types=MediaTypes.DOCKER))
    manifest = json.loads(image.blobs[image.manifest.digest])

    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    assert manifest["layers"][0]["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"


@pytest.mark.parametrize(
    ("name", "reference", "tag"),
    [
        ("busybox", "docker.io/library/busybox:latest", "latest"),
        ("busybox:1", "docker.io/library/busybox:1", "1"),
        ("me/app:2", "docker.io/me/app:2", "2"),
        ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "latest"),
        ("localhost/app:3", "localhost/app:3", "3"),
        ("ghcr.io/o/app:v1", "ghcr.io/o/app:v1", "v1"),
    ],
)
def test_names_are_normalized_like_docker_does(name: str, reference: str, tag: str) -> None:
    assert normalize_reference(name) == (reference, tag)
