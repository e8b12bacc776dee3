"""What the containerd client hands back: frozen records instead of protobuf messages.

Why this exists: generated protobuf classes are untyped to mypy, mutable, and tie every
caller to containerd's wire format. The client converts each response into these records
at the boundary, so nothing outside the driver package depends on ``ctdpb``. Field names
follow containerd's so the mapping stays obvious; a zero protobuf timestamp (never set)
becomes ``None``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

Digest = NewType("Digest", str)
"""A content digest, ``sha256:<hex>``."""

LeaseId = NewType("LeaseId", str)

RUNC_RUNTIME = "io.containerd.runc.v2"
DEFAULT_SNAPSHOTTER = "overlayfs"


@dataclass(frozen=True, kw_only=True)
class VersionInfo:
    version: str
    revision: str


@dataclass(frozen=True, kw_only=True)
class Namespace:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class RuncOptions:
    """The runc shim options (``containerd.runc.v1.Options``) the driver sets."""

    binary_name: str = ""
    root: str = ""
    systemd_cgroup: bool = False
    no_pivot_root: bool = False
    shim_cgroup: str = ""


@dataclass(frozen=True, kw_only=True)
class Runtime:
    name: str = RUNC_RUNTIME
    options: RuncOptions | None = None


@dataclass(frozen=True, kw_only=True)
class NewContainer:
    """A container record to create; ``spec`` is the OCI runtime spec as JSON bytes."""

    id: str
    spec: bytes
    labels: Mapping[str, str] = field(default_factory=dict)
    image: str = ""
    runtime: Runtime = field(default_factory=Runtime)
    snapshotter: str = ""
    snapshot_key: str = ""


@dataclass(frozen=True, kw_only=True)
class Container:
    id: str
    labels: Mapping[str, str]
    image: str
    runtime: Runtime
    spec: bytes
    snapshotter: str
    snapshot_key: str
    created_at: datetime | None
    updated_at: datetime | None


class TaskStatus(enum.Enum):
    UNKNOWN = 0
    CREATED = 1
    RUNNING = 2
    STOPPED = 3
    PAUSED = 4
    PAUSING = 5


@dataclass(frozen=True, kw_only=True)
class Task:
    """A task's (or exec's) process; ``id`` is the container id, or the exec id."""

    id: str
    pid: int
    status: TaskStatus
    exit_status: int
    exited_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ExitStatus:
    exit_status: int
    exited_at: datetime | None
    pid: int = 0


@dataclass(frozen=True, kw_only=True)
class TaskIO:
    """Stdio URIs for a task or exec; see docs/containerd.md, "Tasks" (one ``file://`` URI)."""

    stdin: str = ""
    stdout: str = ""
    stderr: str = ""

    @classmethod
    def log_file(cls, path: str) -> TaskIO:
        """Both streams into one host file, written by the shim (survives our restarts)."""
        uri = f"file://{path}"
        return cls(stdout=uri, stderr=uri)


@dataclass(frozen=True, kw_only=True)
class Mount:
    type: str
    source: str
    options: tuple[str, ...] = ()
    target: str = ""


class SnapshotKind(enum.Enum):
    UNKNOWN = 0
    VIEW = 1
    ACTIVE = 2
    COMMITTED = 3


@dataclass(frozen=True, kw_only=True)
class SnapshotInfo:
    name: str
    parent: str
    kind: SnapshotKind
    labels: Mapping[str, str]
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ContentInfo:
    digest: Digest
    size: int
    labels: Mapping[str, str]
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class Image:
    name: str
    target: Descriptor
    labels: Mapping[str, str]
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class Lease:
    id: LeaseId
    labels: Mapping[str, str]
    created_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class LeaseResource:
    """An object a lease holds: ``type`` is ``content``, ``ingests`` or ``snapshots/<name>``."""

    id: str
    type: str
