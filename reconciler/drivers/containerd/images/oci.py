"""OCI and Docker schema 2 documents: media types, indexes, manifests, image configs.

Why this exists: layouts and registries hand us JSON blobs; everything downstream wants
typed records. The two dialects (OCI and Docker schema 2) have the same shapes for our
purpose, so both parse into the same records; schema 1 and unknown types are refused here
with an ``ImageError``. Parsing is pure and never trusts a blob it was not told the digest
of: callers verify bytes against their descriptor before parsing.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.drivers.containerd.image_config import ImageConfig
from reconciler.drivers.containerd.types import Descriptor, Digest
from reconciler.errors import ImageDigestMismatch, ImageError

from .platform import Platform

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_SCHEMA1_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    }
)
LAYER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    }
)
MANIFEST_ACCEPT = (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX, "*/*")
"""The Accept list for resolving; without it registry 2.8 hides OCI manifests."""

MAX_MANIFEST_BYTES = 4 * 1048 * 1048  # containerd 1.6's MaxManifestSize

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name"


class Kind(enum.Enum):
    INDEX = "index"
    MANIFEST = "manifest"


def is_manifest_or_index(media_type: str) -> bool:
    """Whether the registry serves ``media_type`` from ``/manifests/`` (else ``/blobs/``)."""
    return media_type in (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)


def kind_of(media_type: str, *, what: str) -> Kind:
    """Whether ``media_type`` is an index or a manifest; anything else is refused."""
    if media_type in (OCI_INDEX, DOCKER_MANIFEST_LIST):
        return Kind.INDEX
    if media_type in (OCI_MANIFEST, DOCKER_MANIFEST):
        return Kind.MANIFEST
    if media_type in DOCKER_SCHEMA1_TYPES:
        raise ImageError(f"{what}: Docker schema 1 manifests are not supported")
    raise ImageError(f"{what}: unsupported manifest media type {media_type!r}")


def digest_of(data: bytes) -> Digest:
    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


def verify(data: bytes, descriptor: Descriptor, *, what: str) -> None:
    """Raise ``ImageDigestMismatch`` unless ``data`` is exactly what ``descriptor`` names."""
    if len(data) != descriptor.size or digest_of(data) != descriptor.digest:
        raise ImageDigestMismatch(
            f"{what}: {descriptor.digest} does not match its content "
            f"({len(data)} bytes hashing to {digest_of(data)}, expected {descriptor.size})"
        )


@dataclass(frozen=True, kw_only=True)
class IndexEntry:
    descriptor: Descriptor
    platform: Platform | None


@dataclass(frozen=True, kw_only=True)
class Index:
    manifests: tuple[IndexEntry, ...]


@dataclass(frozen=True, kw_only=True)
class Manifest:
    config: Descriptor
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True, kw_only=True)
class ConfigDocument:
    """A parsed image config blob: the runtime config, platform and layer diff ids."""

    config: ImageConfig
    platform: Platform
    diff_ids: tuple[Digest, ...]


def _load(data: bytes, what: str) -> Mapping[str, Any]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImageError(f"{what}: not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ImageError(f"{what}: expected a JSON object")
    return document


def _descriptor(raw: Any, what: str) -> Descriptor:
    try:
        media_type, digest, size = raw["mediaType"], raw["digest"], raw["size"]
    except (KeyError, TypeError) as error:
        raise ImageError(f"{what}: descriptor without mediaType, digest or size") from error
    if not (isinstance(media_type, str) and isinstance(digest, str) and isinstance(size, int)):
        raise ImageError(f"{what}: malformed descriptor {raw!r}")
    if not digest.startswith("sha256:") or size < 0:
        raise ImageError(f"{what}: unsupported digest or size in descriptor {raw!r}")
    annotations = raw.get("annotations") or {}
    return Descriptor(
        media_type=media_type,
        digest=Digest(digest),
        size=size,
        annotations={str(k): str(v) for k, v in annotations.items()},
    )


def _platform(raw: Any) -> Platform | None:
    if not isinstance(raw, dict) or "os" not in raw or "architecture" not in raw:
        return None
    return Platform(
        os=str(raw["os"]),
        architecture=str(raw["architecture"]),
        variant=str(raw.get("variant", "")),
    )


def parse_index(data: bytes, *, what: str) -> Index:
    document = _load(data, what)
    entries = document.get("manifests")
    if not isinstance(entries, list):
        raise ImageError(f"{what}: index without a manifests list")
    return Index(
        manifests=tuple(
            IndexEntry(descriptor=_descriptor(raw, what), platform=_platform(raw.get("platform")))
            for raw in entries
        )
    )


def parse_manifest(data: bytes, *, what: str) -> Manifest:
    document = _load(data, what)
    if document.get("schemaVersion") != 2:
        raise ImageError(f"{what}: only schemaVersion 2 manifests are supported")
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise ImageError(f"{what}: manifest without a layers list")
    manifest = Manifest(
        config=_descriptor(document.get("config"), what),
        layers=tuple(_descriptor(raw, what) for raw in layers),
    )
    for layer in manifest.layers:
        if layer.media_type not in LAYER_TYPES:
            raise ImageError(f"{what}: unsupported layer media type {layer.media_type!r}")
    return manifest


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise TypeError(f"expected a list of strings, got {value!r}")
    return tuple(str(item) for item in value)


def parse_config(data: bytes, *, what: str) -> ConfigDocument:
    document = _load(data, what)
    rootfs = document.get("rootfs") or {}
    config = ImageConfig.from_json(data, what)
    try:
        diff_ids = tuple(Digest(d) for d in _strings(rootfs.get("diff_ids")) or ())
    except (TypeError, AttributeError) as error:
        raise ImageError(f"{what}: malformed image config: {error}") from error
    return ConfigDocument(
        config=config,
        platform=Platform(
            os=str(document.get("os", "")),
            architecture=str(document.get("architecture", "")),
            variant=str(document.get("variant", "")),
        ),
        diff_ids=diff_ids,
    )


def chain_ids(diff_ids: Sequence[Digest]) -> tuple[Digest, ...]:
    """``identity.ChainID`` of every prefix: the committed snapshot names, bottom to top."""
    chains: list[Digest] = []
    for diff_id in diff_ids:
        if chains:
            chains.append(digest_of(f"{chains[-1]} {diff_id}".encode()))
        else:
            chains.append(diff_id)
    return tuple(chains)
