"""Diff service: applying a layer blob onto mounts, inside the daemon (image unpack)."""

from __future__ import annotations

from collections.abc import Sequence

from ctdpb.api.services.diff.v1 import diff_pb2, diff_pb2_grpc

from reconciler.drivers.containerd import convert
from reconciler.drivers.containerd.connection import Connection
from reconciler.drivers.containerd.types import Descriptor, Mount


class Diff:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._stub = diff_pb2_grpc.DiffStub(connection.channel)

    async def apply(self, layer: Descriptor, *, mounts: Sequence[Mount]) -> Descriptor:
        """Unpack the committed blob ``layer`` onto ``mounts``; returns the applied diff.

        The result's digest is the layer's diff id (uncompressed digest); callers verify it.
        No deadline: large layers take as long as they take.
        """
        response = await self._conn.unary(
            "Diff.Apply",
            self._stub.Apply,
            diff_pb2.ApplyRequest(
                diff=convert.to_descriptor(layer), mounts=convert.to_mounts(mounts)
            ),
            deadline=False,
        )
        return convert.from_descriptor(response.applied)
