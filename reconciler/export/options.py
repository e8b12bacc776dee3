"""What the user chooses about an export, and the checks on what they typed.

The choices that have no answer in the Orchfile: where the objects go (`--namespace`),
how published ports are reached (`--expose`), which registry holds a local image
(`--image-map`), how big a claim is (`--volume-size`), whether host paths and host
services may be left to the user (`--allow-host-path`, `--skip-host`), and which small
image waits for a required service (`--wait-image`). The defaults are the ones
docs/kubernetes.md lists. The parsers raise `UsageError` with the flag's name, so a bad
flag is one line, as every other command's.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

from reconciler.errors import UsageError
from reconciler.export.names import is_dns_label

DEFAULT_VOLUME_SIZE: Final = "1Gi"
# A busybox whose `nc` has `-z` (the official image does; some distributions' do not).
DEFAULT_WAIT_IMAGE: Final = "busybox:1.37"
_QUANTITY: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[KMGTPE]i|[kMGTPE])?")
_LOCAL_PREFIXES: Final = ("/", "./", "../")
_SUBDOMAIN: Final = re.compile(
    r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*"
)
MAX_SUBDOMAIN: Final = 253


class Exposure(enum.Enum):
    """`--expose`: the type of the Services made from PUBLISH."""

    CLUSTER_IP = "clusterip"
    NODE_PORT = "nodeport"
    LOAD_BALANCER = "loadbalancer"


@dataclass(frozen=True, kw_only=True)
class ImageMapping:
    """`--image-map LOCAL=REF`: the FROM written as `LOCAL` (or, for a path, the same
    folder or archive) is pulled by the cluster as `REF`."""

    local: str
    local_path: Path | None
    reference: str

    def matches(self, written: str, path: Path | None) -> bool:
        if self.local == written:
            return True
        if path is not None and self.local_path == path:
            return True
        return bool(written.startswith(_LOCAL_PREFIXES)) and (
            os.path.normpath(self.local) == os.path.normpath(written)
        )


def _no_sizes() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    namespace: str | None = None
    exposure: Exposure = Exposure.CLUSTER_IP
    image_map: tuple[ImageMapping, ...] = ()
    volume_size: str = DEFAULT_VOLUME_SIZE
    volume_sizes: Mapping[str, str] = field(default_factory=_no_sizes)
    storage_class: str | None = None
    allow_host_path: bool = False
    skip_host: bool = False
    wait_image: str = DEFAULT_WAIT_IMAGE


def parse_image_mapping(text: str, cwd: Path) -> ImageMapping:
    local, eq, reference = text.partition("=")
    if not eq or not local or not reference:
        raise UsageError(f"--image-map takes LOCAL=REFERENCE, got '{text}'")
    if reference.startswith(_LOCAL_PREFIXES) or not _is_reference(reference):
        raise UsageError(
            f"--image-map {text}: '{reference}' is not a registry reference "
            "(e.g. registry.example.com/team/web:1)"
        )
    path = Path(os.path.normpath(cwd / local)) if local.startswith(_LOCAL_PREFIXES) else None
    return ImageMapping(local=local, local_path=path, reference=reference)


def parse_volume_size(text: str) -> tuple[str | None, str]:
    """`--volume-size 5Gi` (every claim) or `--volume-size data=5Gi` (the volume `data`)."""
    name, eq, size = text.rpartition("=")
    if not _QUANTITY.fullmatch(size) or (eq and not name):
        raise UsageError(
            f"--volume-size takes a Kubernetes quantity (e.g. 5Gi, 500Mi) or NAME=QUANTITY, "
            f"got '{text}'"
        )
    return (name or None), size


def check_namespace(namespace: str) -> str:
    if not is_dns_label(namespace):
        raise UsageError(
            f"--namespace '{namespace}' is not a Kubernetes namespace name "
            "(lowercase letters, digits and '-', at most 63 characters)"
        )
    return namespace


def check_reference(flag: str, reference: str) -> str:
    if not _is_reference(reference):
        raise UsageError(f"{flag} '{reference}' is not an image reference")
    return reference


def check_storage_class(name: str) -> str:
    if not _SUBDOMAIN.fullmatch(name) or len(name) > MAX_SUBDOMAIN:
        raise UsageError(
            f"--storage-class '{name}' is not a storage class name "
            "(lowercase letters, digits, '-' and '.')"
        )
    return name


def _is_reference(text: str) -> bool:
    return bool(text) and not any(c.isspace() for c in text)
