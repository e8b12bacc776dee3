"""Containers service: the container records (metadata only; the process is a task).

Containers.Create does not check that the snapshot or image exist, and Containers.Delete
succeeds while a task runs (docs/containerd.md, "Containers" and
"Tasks"): ordering is the caller's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ctdpb.api.services.containers.v1 import containers_pb2, containers_pb2_grpc
from google.protobuf import any_pb2, field_mask_pb2

from reconciler.drivers.containerd import convert
from reconciler.drivers.containerd.connection import Connection
from reconciler.drivers.containerd.filters import request_filters
from reconciler.drivers.containerd.types import Container, NewContainer


def _from_proto(message: Any) -> Container:
    return Container(
        id=message.id,
        labels=convert.labels(message.labels),
        image=message.image,
        runtime=convert.from_runtime(message.runtime.name, message.runtime.options),
        spec=message.spec.value,
        snapshotter=message.snapshotter,
        snapshot_key=message.snapshot_key,
        created_at=convert.from_timestamp(message.created_at),
        updated_at=convert.from_timestamp(message.updated_at),
    )


class Containers:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._stub = containers_pb2_grpc.ContainersStub(connection.channel)

    async def create(self, container: NewContainer) -> Container:
        runtime = containers_pb2.Container.Runtime(name=container.runtime.name)
        if container.runtime.options is not None:
            runtime.options.CopyFrom(convert.runc_options_any(container.runtime.options))
        message = containers_pb2.Container(
            id=container.id,
            labels=dict(container.labels),
            image=container.image,
            runtime=runtime,
            spec=any_pb2.Any(type_url=convert.SPEC_TYPE_URL, value=container.spec),
            snapshotter=container.snapshotter,
            snapshot_key=container.snapshot_key,
        )
        response = await self._conn.unary(
            "Containers.Create",
            self._stub.Create,
            containers_pb2.CreateContainerRequest(container=message),
        )
        return _from_proto(response.container)

    async def get(self, container_id: str) -> Container:
        response = await self._conn.unary(
            "Containers.Get", self._stub.Get, containers_pb2.GetContainerRequest(id=container_id)
        )
        return _from_proto(response.container)

    async def list(
        self, *, labels: Mapping[str, str] | None = None, filters: Sequence[str] = ()
    ) -> list[Container]:
        """Containers matching all ``labels`` and any of the raw ``filters`` (both optional).

        Streams one container per message so a namespace full of large specs never hits
        the 16 MiB message limit as a whole.
        """
        request = containers_pb2.ListContainersRequest(filters=request_filters(labels, filters))
        with self._conn.translated("Containers.ListStream"):
            stream = self._stub.ListStream(
                request, metadata=self._conn.metadata(), timeout=self._conn.call_timeout
            )
            return [_from_proto(message.container) async for message in stream]

    async def update_labels(self, container_id: str, labels: Mapping[str, str | None]) -> Container:
        """Set the given labels; a ``None`` value removes that label. Others stay."""
        message = containers_pb2.Container(id=container_id, labels=convert.optional_labels(labels))
        mask = field_mask_pb2.FieldMask(paths=convert.update_mask_for_labels(labels))
        response = await self._conn.unary(
            "Containers.Update",
            self._stub.Update,
            containers_pb2.UpdateContainerRequest(container=message, update_mask=mask),
        )
        return _from_proto(response.container)

    async def delete(self, container_id: str) -> None:
        await self._conn.unary(
            "Containers.Delete",
            self._stub.Delete,
            containers_pb2.DeleteContainerRequest(id=container_id),
        )
