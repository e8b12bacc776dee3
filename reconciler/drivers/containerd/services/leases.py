"""Leases service: GC protection for objects between the steps of a multi-step mutation.

A lease labelled ``containerd.io/gc.expire`` stops protecting at that time and is itself
collected, so a crash mid-import leaves nothing GC will not eventually remove.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ctdpb.api.services.leases.v1 import leases_pb2, leases_pb2_grpc

from reconciler.drivers.containerd import convert
from reconciler.drivers.containerd.connection import Connection
from reconciler.drivers.containerd.filters import request_filters
from reconciler.drivers.containerd.types import Lease, LeaseId, LeaseResource

EXPIRE_LABEL = "containerd.io/gc.expire"


def _from_proto(message: Any) -> Lease:
    return Lease(
        id=LeaseId(message.id),
        labels=convert.labels(message.labels),
        created_at=convert.from_timestamp(message.created_at),
    )


def expire_label(expires_at: datetime) -> str:
    """RFC 3339 in UTC, as containerd parses ``gc.expire`` (unparsable would mean never)."""
    if expires_at.tzinfo is None:
        raise ValueError("lease expiry must be timezone-aware")
    return expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Leases:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._stub = leases_pb2_grpc.LeasesStub(connection.channel)

    async def create(
        self,
        lease_id: LeaseId,
        *,
        expires_at: datetime | None,
        labels: Mapping[str, str] | None = None,
    ) -> Lease:
        """Create a lease; ``expires_at=None`` makes one that never expires (avoid)."""
        all_labels = dict(labels or {})
        if expires_at is not None:
            all_labels[EXPIRE_LABEL] = expire_label(expires_at)
        response = await self._conn.unary(
            "Leases.Create",
            self._stub.Create,
            leases_pb2.CreateRequest(id=lease_id, labels=all_labels),
            metadata=self._conn.metadata(with_lease=False),
        )
        return _from_proto(response.lease)

    async def list(
        self, *, labels: Mapping[str, str] | None = None, filters: Sequence[str] = ()
    ) -> list[Lease]:
        response = await self._conn.unary(
            "Leases.List",
            self._stub.List,
            leases_pb2.ListRequest(filters=request_filters(labels, filters)),
            metadata=self._conn.metadata(with_lease=False),
        )
        return [_from_proto(lease) for lease in response.leases]

    async def delete(self, lease_id: LeaseId, *, sync: bool = False) -> None:
        """Delete the lease; ``sync`` runs a GC and waits for it before returning."""
        await self._conn.unary(
            "Leases.Delete",
            self._stub.Delete,
            leases_pb2.DeleteRequest(id=lease_id, sync=sync),
            metadata=self._conn.metadata(with_lease=False),
        )

    async def add_resource(self, lease_id: LeaseId, resource: LeaseResource) -> None:
        """Pin an existing object to the lease (type ``content``, ``snapshots/<name>``...)."""
        await self._conn.unary(
            "Leases.AddResource",
            self._stub.AddResource,
            leases_pb2.AddResourceRequest(
                id=lease_id, resource=leases_pb2.Resource(id=resource.id, type=resource.type)
            ),
            metadata=self._conn.metadata(with_lease=False),
        )

    async def list_resources(self, lease_id: LeaseId) -> builtins.list[LeaseResource]:
        response = await self._conn.unary(
            "Leases.ListResources",
            self._stub.ListResources,
            leases_pb2.ListResourcesRequest(id=lease_id),
            metadata=self._conn.metadata(with_lease=False),
        )
        return [LeaseResource(id=r.id, type=r.type) for r in response.resources]
