"""OCI and Docker documents parse into the same records; other media types are refused."""

from __future__ import annotations

import json

import pytest

from reconciler.drivers.containerd.images import oci
from reconciler.drivers.containerd.types import Descriptor, Digest
from reconciler.errors import ImageDigestMismatch, ImageError
from tests.support.oci_image import ImageSpec, MediaTypes, build_image


@pytest.mark.parametrize("types", list(MediaTypes))
def test_manifests_of_both_dialects_parse_to_config_and_layers(types: MediaTypes) -> None:
    image = build_image(ImageSpec(media_types=types))

    manifest = oci.parse_manifest(image.blobs[image.manifest.digest], what="m")

    assert manifest.config.digest == image.config.digest
    assert manifest.config.media_type == types.config
    assert [layer.digest for layer in manifest.layers] == [x.digest for x in image.layers]


@pytest.mark.parametrize("types", list(MediaTypes))
def test_both_index_dialects_carry_the_platform_of_each_manifest(types: MediaTypes) -> None:
    image = build_image(ImageSpec(media_types=types, multi_platform=True))

    index = oci.parse_index(image.blobs[image.target.digest], what="i")

    assert oci.kind_of(image.target.media_type, what="t") is oci.Kind.INDEX
    assert [entry.platform is not None for entry in index.manifests] == [True, True]


def test_the_image_config_gives_what_a_container_is_built_from() -> None:
    image = build_image(
        ImageSpec(entrypoint=("/bin/sh", "-c"), cmd=("echo hi",), user="app", working_dir="/w")
    )
    document = json.loads(image.blobs[image.config.digest])
    document["config"]["ExposedPorts"] = {"8080/tcp": {}, "53/udp": {}}

    parsed = oci.parse_config(json.dumps(document).encode(), what="c")

    assert parsed.config.entrypoint == ("/bin/sh", "-c")
    assert parsed.config.cmd == ("echo hi",)
    assert parsed.config.user == "app"
    assert parsed.config.working_dir == "/w"
    assert parsed.config.exposed_ports == ("53/udp", "8080/tcp")
    assert parsed.diff_ids == image.diff_ids


def test_chain_ids_match_the_builders_identity_chainid() -> None:
    from tests.support.oci_layer import FileEntry

    image = build_image(ImageSpec(extra_files=(FileEntry(path="x", data=b"x"),), pad_mb=1))

    chains = oci.chain_ids([Digest(d) for d in image.diff_ids])

    assert chains[0] == image.diff_ids[0]
    assert chains[-1] == image.chain_id
    assert len(chains) == 3


@pytest.mark.parametrize(
    "media_type",
    [
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v1+json",
        "text/html",
    ],
)
def test_schema_1_and_unknown_manifest_types_are_refused(media_type: str) -> None:
    with pytest.raises(ImageError, match=r"not supported|unsupported"):
        oci.kind_of(media_type, what="image x")


def test_foreign_layers_are_refused() -> None:
    manifest = {
        "schemaVersion": 2,
        "config": {"mediaType": oci.OCI_CONFIG, "digest": "sha256:" + "0" * 64, "size": 1},
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                "digest": "sha256:" + "1" * 64,
                "size": 1,
            }
        ],
    }

    with pytest.raises(ImageError, match="unsupported layer media type"):
        oci.parse_manifest(json.dumps(manifest).encode(), what="m")


def test_bytes_that_do_not_hash_to_the_descriptor_are_a_digest_mismatch() -> None:
    descriptor = Descriptor(media_type=oci.OCI_CONFIG, digest=oci.digest_of(b"good"), size=4)

    oci.verify(b"good", descriptor, what="c")
    with pytest.raises(ImageDigestMismatch):
        oci.verify(b"evil", descriptor, what="c")


def test_invalid_json_is_an_image_error() -> None:
    with pytest.raises(ImageError, match="not valid JSON"):
        oci.parse_index(b"{nope", what="index")
