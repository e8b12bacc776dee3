"""A small, valid, reproducible OCI image built from the host's static busybox.

Tests need an image without network access; building it ourselves also lets them choose
the entrypoint, user, extra files, size, media types (OCI or Docker schema 2) and a
multi-platform index. Output is an OCI image layout directory, or that layout as a tar
archive (what ``ctr images import`` and the reconciler's importer read).

    python -m tests.support.oci_image --out DIR [--archive FILE] [--name busybox:1] [--pad-mb N]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from tests.support.oci_layer import EPOCH, FileEntry, Layer, build_layer, busybox_rootfs, padding

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CREATED = "2000-01-01T00:00:00Z"
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


class MediaTypes(Enum):
    """The two manifest dialects registries and containerd accept; values are JSON types."""

    OCI = (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar+gzip",
    )
    DOCKER = (
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    )

    @property
    def index(self) -> str:
        return self.value[0]

    @property
    def manifest(self) -> str:
        return self.value[1]

    @property
    def config(self) -> str:
        return self.value[2]

    @property
    def layer(self) -> str:
        return self.value[3]


@dataclass(frozen=True, kw_only=True)
class Platform:
    architecture: str
    os: str = "linux"
    variant: str = ""

    def as_json(self) -> dict[str, str]:
        result = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            result["variant"] = self.variant
        return result


def host_platform() -> Platform:
    machine = platform.machine()
    match machine:
        case "x86_64" | "amd64":
            return Platform(architecture="amd64")
        case "aarch64" | "arm64":
            return Platform(architecture="arm64", variant="v8")
    raise RuntimeError(f"no OCI architecture known for machine {machine!r}")


def foreign_platform(host: Platform) -> Platform:
    """Another platform for the fake second entry of a multi-platform index."""
    if host.architecture == "amd64":
        return Platform(architecture="arm64", variant="v8")
    return Platform(architecture="amd64")


@dataclass(frozen=True, kw_only=True)
class ImageSpec:
    """What to build. ``env`` entries are appended after PATH; None leaves a field out."""

    name: str = "busybox:1"
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = ("sh",)
    working_dir: str | None = None
    user: str | None = None
    env: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str | None = None
    # A second layer; a file named ``.wh.NAME`` is a whiteout deleting NAME below it.
    extra_files: tuple[FileEntry, ...] = ()
    pad_mb: int = 0
    media_types: MediaTypes = MediaTypes.OCI
    multi_platform: bool = False


@dataclass(frozen=True, kw_only=True)
class Descriptor:
    media_type: str
    digest: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True, kw_only=True)
class BuiltImage:
    """Every blob of the image by digest, and the descriptor index.json points at."""

    reference: str
    tag: str
    target: Descriptor
    manifest: Descriptor
    config: Descriptor
    layers: tuple[Layer, ...]
    blobs: Mapping[str, bytes]

    @property
    def diff_ids(self) -> tuple[str, ...]:
        return tuple(layer.diff_id for layer in self.layers)

    @property
    def chain_id(self) -> str:
        """The committed snapshot name of the top layer once unpacked (identity.ChainID)."""
        chain = self.layers[0].diff_id
        for layer in self.layers[1:]:
            chain = "sha256:" + hashlib.sha256(f"{chain} {layer.diff_id}".encode()).hexdigest()
        return chain


def normalize_reference(name: str) -> tuple[str, str]:
    """``busybox:1`` -> (``docker.io/library/busybox:1``, ``1``), as docker and ctr do."""
    repository, _, tag = name.rpartition(":")
    if not repository or "/" in tag:
        repository, tag = name, "latest"
    first, _, rest = repository.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        repository = "docker.io/" + (repository if rest else "library/" + repository)
    return f"{repository}:{tag}", tag


def _json_blob(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _add(blobs: dict[str, bytes], media_type: str, data: bytes) -> Descriptor:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return Descriptor(media_type=media_type, digest=digest, size=len(data))


def _config(spec: ImageSpec, target: Platform, layers: tuple[Layer, ...]) -> dict[str, Any]:
    config: dict[str, Any] = {"Env": [DEFAULT_PATH, *spec.env]}
    optional = {
        "Entrypoint": list(spec.entrypoint) if spec.entrypoint is not None else None,
        "Cmd": list(spec.cmd) if spec.cmd is not None else None,
        "WorkingDir": spec.working_dir,
        "User": spec.user,
        "Labels": dict(spec.labels) or None,
        "StopSignal": spec.stop_signal,
    }
    config.update({key: value for key, value in optional.items() if value is not None})
    return {
        **target.as_json(),
        "created": CREATED,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": CREATED, "created_by": "tests.support.oci_image"}] * len(layers),
    }


def build_image(spec: ImageSpec) -> BuiltImage:
    layer_entries = [busybox_rootfs()]
    if spec.extra_files:
        layer_entries.append(list(spec.extra_files))
    if spec.pad_mb:
        layer_entries.append(padding(spec.pad_mb))
    layers = tuple(build_layer(entries) for entries in layer_entries)
    types = spec.media_types
    blobs: dict[str, bytes] = {}
    layer_descriptors = [_add(blobs, types.layer, layer.blob) for layer in layers]

    def manifest_for(target: Platform) -> tuple[Descriptor, Descriptor]:
        config = _add(blobs, types.config, _json_blob(_config(spec, target, layers)))
        manifest = {
            "schemaVersion": 2,
            "mediaType": types.manifest,
            "config": config.as_json(),
            "layers": [descriptor.as_json() for descriptor in layer_descriptors],
        }
        return _add(blobs, types.manifest, _json_blob(manifest)), config

    host = host_platform()
    manifest, config = manifest_for(host)
    target = manifest
    if spec.multi_platform:
        other, _ = manifest_for(foreign_platform(host))
        index = {
            "schemaVersion": 2,
            "mediaType": types.index,
            "manifests": [
                {**manifest.as_json(), "platform": host.as_json()},
                {**other.as_json(), "platform": foreign_platform(host).as_json()},
            ],
        }
        target = _add(blobs, types.index, _json_blob(index))
    reference, tag = normalize_reference(spec.name)
    return BuiltImage(
        reference=reference,
        tag=tag,
        target=target,
        manifest=manifest,
        config=config,
        layers=layers,
        blobs=blobs,
    )


def layout_files(image: BuiltImage) -> dict[str, bytes]:
    """The OCI image layout as relative path -> content."""
    entry = {
        **image.target.as_json(),
        "annotations": {REF_NAME: image.tag, CONTAINERD_NAME: image.reference},
    }
    index = {"schemaVersion": 2, "mediaType": MediaTypes.OCI.index, "manifests": [entry]}
    files = {
        "oci-layout": _json_blob({"imageLayoutVersion": "1.0.0"}),
        "index.json": _json_blob(index),
    }
    for digest, data in image.blobs.items():
        files["blobs/sha256/" + digest.removeprefix("sha256:")] = data
    return files


def write_layout(image: BuiltImage, directory: Path) -> Path:
    for relative, data in layout_files(image).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return directory


def write_archive(image: BuiltImage, archive: Path) -> Path:
    """The layout as an uncompressed tar, entries sorted and timestamps fixed."""
    files = layout_files(image)
    directories = {"blobs", "blobs/sha256"}
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(directories | files.keys()):
            info = tarfile.TarInfo(name)
            info.mtime = EPOCH
            if name in directories:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.mode, info.size = 0o644, len(files[name])
                tar.addfile(info, io.BytesIO(files[name]))
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.oci_image", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="OCI layout directory to write")
    parser.add_argument("--archive", type=Path, help="also write the layout as this tar file")
    parser.add_argument("--name", default="busybox:1", help="image reference (default busybox:1)")
    parser.add_argument("--pad-mb", type=int, default=0, help="add a layer of N MiB filler")
    parser.add_argument("--docker", action="store_true", help="Docker schema 2 media types")
    parser.add_argument("--multi-platform", action="store_true", help="index: host + fake other")
    parser.add_argument("--entrypoint", nargs="+", help="image Entrypoint")
    parser.add_argument("--cmd", nargs="+", help="image Cmd (default: sh)")
    parser.add_argument("--user", help="image User")
    parser.add_argument("--workdir", help="image WorkingDir")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE, repeatable")
    args = parser.parse_args(argv)
    spec = ImageSpec(
        name=args.name,
        entrypoint=tuple(args.entrypoint) if args.entrypoint else None,
        cmd=tuple(args.cmd) if args.cmd else ("sh",),
        user=args.user,
        working_dir=args.workdir,
        env=tuple(args.env),
        pad_mb=args.pad_mb,
        media_types=MediaTypes.DOCKER if args.docker else MediaTypes.OCI,
        multi_platform=args.multi_platform,
    )
    image = build_image(spec)
    write_layout(image, args.out)
    if args.archive:
        write_archive(image, args.archive)
    print(f"{image.reference} {image.target.digest} tag={image.tag} layout={args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
