"""Events: the daemon's live event stream, decoded into typed records.

Why this exists: events wake the reconciler up; they are hints, never a log (nothing is
replayed, the shim drops what it cannot deliver). Subscribers must re-list after every
(re)subscribe. Subscribe ignores the namespace header, so the namespace is a filter.

Payloads arrive as ``Any`` with type URLs like ``containerd.events.TaskExit`` (no
``/``), which ``Any.Unpack`` rejects; they are decoded by full type name instead
(docs/containerd.md, "Events").
Each record below mirrors the event message of the same name, field for field (a subset
of fields where the rest is not useful to a reconciler); events of other types become
``OtherEvent``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Importing the event modules registers their message types in the default descriptor
# pool, where decode_payload finds them by name.
from ctdpb.api.events import (  # noqa: F401
    container_pb2,
    content_pb2,
    image_pb2,
    namespace_pb2,
    snapshot_pb2,
    task_pb2,
)
from ctdpb.api.services.events.v1 import events_pb2, events_pb2_grpc
from google.protobuf import descriptor_pool, message_factory

from . import convert
from .connection import Connection
from .filters import all_of, equals
from .types import Digest


@dataclass(frozen=True, kw_only=True)
class TaskCreate:
    container_id: str
    pid: int


@dataclass(frozen=True, kw_only=True)
class TaskStart:
    container_id: str
    pid: int


@dataclass(frozen=True, kw_only=True)
class TaskExit:
    """A process exited: the task's init when ``id == container_id``, else an exec."""

    container_id: str
    id: str
    pid: int
    exit_status: int
    exited_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class TaskDelete:
    container_id: str
    id: str
    pid: int
    exit_status: int
    exited_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class TaskOOM:
    container_id: str


@dataclass(frozen=True, kw_only=True)
class TaskExecAdded:
    container_id: str
    exec_id: str


@dataclass(frozen=True, kw_only=True)
class TaskExecStarted:
    container_id: str
    exec_id: str
    pid: int


@dataclass(frozen=True, kw_only=True)
class TaskPaused:
    container_id: str


@dataclass(frozen=True, kw_only=True)
class TaskResumed:
    container_id: str


@dataclass(frozen=True, kw_only=True)
class ContainerCreate:
    id: str
    image: str


@dataclass(frozen=True, kw_only=True)
class ContainerUpdate:
    id: str
    image: str
    labels: Mapping[str, str]
    snapshot_key: str


@dataclass(frozen=True, kw_only=True)
class ContainerDelete:
    id: str


@dataclass(frozen=True, kw_only=True)
class ImageCreate:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class ImageUpdate:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class ImageDelete:
    name: str


@dataclass(frozen=True, kw_only=True)
class ContentDelete:
    digest: Digest


@dataclass(frozen=True, kw_only=True)
class SnapshotPrepare:
    key: str
    parent: str


@dataclass(frozen=True, kw_only=True)
class SnapshotCommit:
    key: str
    name: str


@dataclass(frozen=True, kw_only=True)
class SnapshotRemove:
    key: str


@dataclass(frozen=True, kw_only=True)
class NamespaceCreate:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class NamespaceUpdate:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class NamespaceDelete:
    name: str


@dataclass(frozen=True, kw_only=True)
class OtherEvent:
    """A payload type this module does not decode (e.g. ``TaskCheckpointed``)."""

    type_url: str


Payload = (
    TaskCreate
    | TaskStart
    | TaskExit
    | TaskDelete
    | TaskOOM
    | TaskExecAdded
    | TaskExecStarted
    | TaskPaused
    | TaskResumed
    | ContainerCreate
    | ContainerUpdate
    | ContainerDelete
    | ImageCreate
    | ImageUpdate
    | ImageDelete
    | ContentDelete
    | SnapshotPrepare
    | SnapshotCommit
    | SnapshotRemove
    | NamespaceCreate
    | NamespaceUpdate
    | NamespaceDelete
    | OtherEvent
)

_DECODED: dict[str, type[Any]] = {
    f"containerd.events.{cls.__name__}": cls
    for cls in (
        TaskCreate,
        TaskStart,
        TaskExit,
        TaskDelete,
        TaskOOM,
        TaskExecAdded,
        TaskExecStarted,
        TaskPaused,
        TaskResumed,
        ContainerCreate,
        ContainerUpdate,
        ContainerDelete,
        ImageCreate,
        ImageUpdate,
        ImageDelete,
        ContentDelete,
        SnapshotPrepare,
        SnapshotCommit,
        SnapshotRemove,
        NamespaceCreate,
        NamespaceUpdate,
        NamespaceDelete,
    )
}


@dataclass(frozen=True, kw_only=True)
class Event:
    timestamp: datetime | None
    namespace: str
    topic: str
    payload: Payload


def _field_value(message: Any, name: str) -> Any:
    value = getattr(message, name)
    if name.endswith("_at"):
        return convert.from_timestamp(value)
    if name == "labels":
        return convert.labels(value)
    return value


def decode_payload(type_url: str, value: bytes) -> Payload:
    """The typed record for an event payload, looked up by its full type name."""
    record = _DECODED.get(type_url)
    if record is None:
        return OtherEvent(type_url=type_url)
    descriptor = descriptor_pool.Default().FindMessageTypeByName(type_url)
    message = message_factory.GetMessageClass(descriptor).FromString(value)
    payload: Payload = record(
        **{f.name: _field_value(message, f.name) for f in dataclasses.fields(record)}
    )
    return payload


class Events:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._stub = events_pb2_grpc.EventsStub(connection.channel)

    async def subscribe(self, *filters: str) -> AsyncIterator[Event]:
        """Live events of this client's namespace matching any of ``filters`` (or all).

        Ends only by error (RuntimeUnavailable when the daemon restarts) or cancellation.
        A parse error in a filter also arrives as an error from the stream.
        """
        own = equals("namespace", self._conn.namespace)
        request = events_pb2.SubscribeRequest(
            filters=[all_of(own, extra) for extra in filters] if filters else [own]
        )
        with self._conn.translated("Events.Subscribe"):
            async for envelope in self._stub.Subscribe(request, metadata=self._conn.metadata()):
                yield Event(
                    timestamp=convert.from_timestamp(envelope.timestamp),
                    namespace=envelope.namespace,
                    topic=envelope.topic,
                    payload=decode_payload(envelope.event.type_url, envelope.event.value),
                )
