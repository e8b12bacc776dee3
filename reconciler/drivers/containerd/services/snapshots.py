"""Snapshots service: filesystem snapshots of one snapshotter (``overlayfs`` by default).

Active snapshots prepared outside a lease are deleted by the next GC (docs/containerd.md, "Leases"):
prepare under ``ContainerdClient.lease``. Snapshots carry no labels unless given here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ctdpb.api.services.snapshots.v1 import snapshots_pb2, snapshots_pb2_grpc

from reconciler.drivers.containerd import convert
from reconciler.drivers.containerd.connection import Connection
from reconciler.drivers.containerd.filters import request_filters
from reconciler.drivers.containerd.types import Mount, SnapshotInfo, SnapshotKind


def _from_info(message: Any) -> SnapshotInfo:
    return SnapshotInfo(
        name=message.name,
        parent=message.parent,
        kind=SnapshotKind(message.kind),
        labels=convert.labels(message.labels),
        created_at=convert.from_timestamp(message.created_at),
        updated_at=convert.from_timestamp(message.updated_at),
    )


class Snapshots:
    def __init__(self, connection: Connection, snapshotter: str) -> None:
        self._conn = connection
        self._stub = snapshots_pb2_grpc.SnapshotsStub(connection.channel)
        self.snapshotter = snapshotter

    async def prepare(
        self, key: str, *, parent: str = "", labels: Mapping[str, str] | None = None
    ) -> list[Mount]:
        """A new active (writable) snapshot on top of ``parent``; returns its mounts."""
        response = await self._conn.unary(
            "Snapshots.Prepare",
            self._stub.Prepare,
            snapshots_pb2.PrepareSnapshotRequest(
                snapshotter=self.snapshotter, key=key, parent=parent, labels=dict(labels or {})
            ),
        )
        return [convert.from_mount(mount) for mount in response.mounts]

    async def view(
        self, key: str, *, parent: str, labels: Mapping[str, str] | None = None
    ) -> list[Mount]:
        """A read-only view of the committed snapshot ``parent``; returns its mounts."""
        response = await self._conn.unary(
            "Snapshots.View",
            self._stub.View,
            snapshots_pb2.ViewSnapshotRequest(
                snapshotter=self.snapshotter, key=key, parent=parent, labels=dict(labels or {})
            ),
        )
        return [convert.from_mount(mount) for mount in response.mounts]

    async def mounts(self, key: str) -> list[Mount]:
        response = await self._conn.unary(
            "Snapshots.Mounts",
            self._stub.Mounts,
            snapshots_pb2.MountsRequest(snapshotter=self.snapshotter, key=key),
        )
        return [convert.from_mount(mount) for mount in response.mounts]

    async def commit(self, name: str, *, key: str, labels: Mapping[str, str] | None = None) -> None:
        """Turn the active snapshot ``key`` into the committed snapshot ``name``."""
        await self._conn.unary(
            "Snapshots.Commit",
            self._stub.Commit,
            snapshots_pb2.CommitSnapshotRequest(
                snapshotter=self.snapshotter, name=name, key=key, labels=dict(labels or {})
            ),
        )

    async def remove(self, key: str) -> None:
        await self._conn.unary(
            "Snapshots.Remove",
            self._stub.Remove,
            snapshots_pb2.RemoveSnapshotRequest(snapshotter=self.snapshotter, key=key),
        )

    async def stat(self, key: str) -> SnapshotInfo:
        response = await self._conn.unary(
            "Snapshots.Stat",
            self._stub.Stat,
            snapshots_pb2.StatSnapshotRequest(snapshotter=self.snapshotter, key=key),
        )
        return _from_info(response.info)

    async def list(
        self, *, labels: Mapping[str, str] | None = None, filters: Sequence[str] = ()
    ) -> list[SnapshotInfo]:
        """Snapshots matching all ``labels`` and any of ``filters`` (e.g. ``kind==active``)."""
        request = snapshots_pb2.ListSnapshotsRequest(
            snapshotter=self.snapshotter, filters=request_filters(labels, filters)
        )
        with self._conn.translated("Snapshots.List"):
            stream = self._stub.List(
                request, metadata=self._conn.metadata(), timeout=self._conn.call_timeout
            )
            return [_from_info(info) async for response in stream for info in response.info]
