"""Namespaces service: listing and removing containerd namespaces.

Create/Update/Delete must carry the namespace being changed as the namespace header, or
the daemon commits the change and then fails publishing its event (docs/containerd.md,
"Namespaces").
``Namespaces.Get`` never reports NOT_FOUND, so there is no ``get`` here: use ``list``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ctdpb.api.services.namespaces.v1 import namespace_pb2, namespace_pb2_grpc

from reconciler.drivers.containerd import convert
from reconciler.drivers.containerd.connection import NAMESPACE_HEADER, Connection
from reconciler.drivers.containerd.types import Namespace


class Namespaces:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._stub = namespace_pb2_grpc.NamespacesStub(connection.channel)

    async def list(self) -> list[Namespace]:
        response = await self._conn.unary(
            "Namespaces.List",
            self._stub.List,
            namespace_pb2.ListNamespacesRequest(),
            metadata=(),
        )
        return [
            Namespace(name=ns.name, labels=convert.labels(ns.labels)) for ns in response.namespaces
        ]

    async def create(self, name: str, *, labels: Mapping[str, str] | None = None) -> Namespace:
        response = await self._conn.unary(
            "Namespaces.Create",
            self._stub.Create,
            namespace_pb2.CreateNamespaceRequest(
                namespace=namespace_pb2.Namespace(name=name, labels=dict(labels or {}))
            ),
            metadata=((NAMESPACE_HEADER, name),),
        )
        created = response.namespace
        return Namespace(name=created.name, labels=convert.labels(created.labels))

    async def delete(self, name: str) -> None:
        """Delete an empty namespace (FailedPrecondition while anything is left in it)."""
        await self._conn.unary(
            "Namespaces.Delete",
            self._stub.Delete,
            namespace_pb2.DeleteNamespaceRequest(name=name),
            metadata=((NAMESPACE_HEADER, name),),
        )
