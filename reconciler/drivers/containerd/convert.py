"""Conversions between protobuf messages and the records in ``types``.

Why this exists: each service module reads and writes the same shared messages (mounts,
descriptors, timestamps, runc options); converting them in one place keeps the service
modules about call semantics only. Messages are typed ``Any`` here because the generated
stubs are outside mypy's view (pyproject skips ``ctdpb``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ctdpb.api.types import descriptor_pb2, mount_pb2
from ctdpb.runtime.v2.runc.options import oci_pb2
from google.protobuf import any_pb2

from .types import Descriptor, Digest, Mount, RuncOptions, Runtime

# The shim looks the options type up by this exact name; Any.Pack() would prefix
# "type.googleapis.com/" and the shim then fails to start (docs/containerd.md, "Containers").
RUNC_OPTIONS_TYPE_URL = "containerd.runc.v1.Options"
SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec"
PROCESS_SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process"


def from_timestamp(stamp: Any) -> datetime | None:
    """An aware UTC datetime, or None for the unset (zero) timestamp."""
    if stamp.seconds == 0 and stamp.nanos == 0:
        return None
    return datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, tz=UTC)


def labels(proto_map: Any) -> dict[str, str]:
    return {str(key): str(value) for key, value in proto_map.items()}


def from_mount(message: Any) -> Mount:
    return Mount(
        type=message.type,
        source=message.source,
        options=tuple(message.options),
        target=message.target,
    )


def to_mounts(mounts: Iterable[Mount]) -> list[Any]:
    return [
        mount_pb2.Mount(type=m.type, source=m.source, target=m.target, options=list(m.options))
        for m in mounts
    ]


def from_descriptor(message: Any) -> Descriptor:
    return Descriptor(
        media_type=message.media_type,
        digest=Digest(message.digest),
        size=message.size,
        annotations=labels(message.annotations),
    )


def to_descriptor(descriptor: Descriptor) -> Any:
    return descriptor_pb2.Descriptor(
        media_type=descriptor.media_type,
        digest=descriptor.digest,
        size=descriptor.size,
        annotations=dict(descriptor.annotations),
    )


def runc_options_any(options: RuncOptions) -> Any:
    value = oci_pb2.Options(
        binary_name=options.binary_name,
        root=options.root,
        systemd_cgroup=options.systemd_cgroup,
        no_pivot_root=options.no_pivot_root,
        shim_cgroup=options.shim_cgroup,
    ).SerializeToString(deterministic=True)
    return any_pb2.Any(type_url=RUNC_OPTIONS_TYPE_URL, value=value)


def from_runtime(name: str, options: Any) -> Runtime:
    """The container's runtime; options of another type than runc's are not ours to read."""
    if options.type_url != RUNC_OPTIONS_TYPE_URL:
        return Runtime(name=name)
    decoded = oci_pb2.Options.FromString(options.value)
    return Runtime(
        name=name,
        options=RuncOptions(
            binary_name=decoded.binary_name,
            root=decoded.root,
            systemd_cgroup=decoded.systemd_cgroup,
            no_pivot_root=decoded.no_pivot_root,
            shim_cgroup=decoded.shim_cgroup,
        ),
    )


def update_mask_for_labels(keys: Iterable[str]) -> list[str]:
    return [f"labels.{key}" for key in sorted(keys)]


def optional_labels(values: Mapping[str, str | None]) -> dict[str, str]:
    """The labels to send for an update where ``None`` means "remove this label"."""
    return {key: value for key, value in values.items() if value is not None}
