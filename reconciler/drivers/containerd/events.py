"""Events: the daemon's live event stream, decoded into typed records.

Why this exists: events wake the reconciler up; they are hints, never a log (nothing is
replayed, the shim drops what it cannot deliver). Subscribers must re-list after every
(re)subscribe. Subscribe ignores the namespace header, so the namespace is a filter.

Payloads arrive as ``Any`` with type URLs like ``containerd.events.TaskExit`` (no
``/``), which ``Any.Unpack`` rejects; they are decoded by full type name instead
(docs/containerd.md, "Events"). Only the events something here reacts to are decoded:
each record mirrors the event message of the same name (the fields a reconciler uses);
every other type becomes ``OtherEvent``, which a watcher treats as a plain wake-up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Importing the event modules registers their message types in the default descriptor
# pool, where decode_payload finds them by name.
from ctdpb.api.events import container_pb2, namespace_pb2, task_pb2  # noqa: F401
from ctdpb.api.services.events.v1 import events_pb2, events_pb2_grpc
from google.protobuf import descriptor_pool, message_factory

from . import convert
from .connection import Connection
from .filters import all_of, equals


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
class TaskOOM:
    container_id: str


@dataclass(frozen=True, kw_only=True)
class ContainerDelete:
    id: str


@dataclass(frozen=True, kw_only=True)
class NamespaceUpdate:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class OtherEvent:
    """A payload type this module does not decode (e.g. ``TaskCheckpointed``)."""

    type_url: str


Payload = TaskStart | TaskExit | TaskOOM | ContainerDelete | NamespaceUpdate | OtherEvent

_DECODED: dict[str, type[Any]] = {
    f"containerd.events.{cls.__name__}": cls
    for cls in (TaskStart, TaskExit, TaskOOM, ContainerDelete, NamespaceUpdate)
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
