"""Images service: the named image records (name → target descriptor).

The record is the GC root of an image's blobs and layer snapshots; fetching, unpacking and
labelling those is the image importer's job, not this wrapper's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ctdpb.api.services.images.v1 import images_pb2, images_pb2_grpc
from google.protobuf import field_mask_pb2

from reconciler.drivers.containerd import convert
from reconciler.drivers.containerd.connection import Connection
from reconciler.drivers.containerd.filters import request_filters
from reconciler.drivers.containerd.types import Descriptor, Image


def _from_proto(message: Any) -> Image:
    return Image(
        name=message.name,
        target=convert.from_descriptor(message.target),
        labels=convert.labels(message.labels),
        created_at=convert.from_timestamp(message.created_at),
        updated_at=convert.from_timestamp(message.updated_at),
    )


class Images:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._stub = images_pb2_grpc.ImagesStub(connection.channel)

    async def get(self, name: str) -> Image:
        response = await self._conn.unary(
            "Images.Get", self._stub.Get, images_pb2.GetImageRequest(name=name)
        )
        return _from_proto(response.image)

    async def list(
        self, *, labels: Mapping[str, str] | None = None, filters: Sequence[str] = ()
    ) -> list[Image]:
        response = await self._conn.unary(
            "Images.List",
            self._stub.List,
            images_pb2.ListImagesRequest(filters=request_filters(labels, filters)),
        )
        return [_from_proto(image) for image in response.images]

    async def create(
        self, name: str, *, target: Descriptor, labels: Mapping[str, str] | None = None
    ) -> Image:
        message = images_pb2.Image(
            name=name, target=convert.to_descriptor(target), labels=dict(labels or {})
        )
        response = await self._conn.unary(
            "Images.Create", self._stub.Create, images_pb2.CreateImageRequest(image=message)
        )
        return _from_proto(response.image)

    async def update(
        self,
        name: str,
        *,
        target: Descriptor | None = None,
        labels: Mapping[str, str | None] | None = None,
    ) -> Image:
        """Change the target and/or the given labels (``None`` removes one); rest stays."""
        message = images_pb2.Image(name=name)
        paths: list[str] = []
        if target is not None:
            message.target.CopyFrom(convert.to_descriptor(target))
            paths.append("target")
        if labels is not None:
            message.labels.update(convert.optional_labels(labels))
            paths.extend(convert.update_mask_for_labels(labels))
        if not paths:
            raise ValueError("Images.update needs a target or labels to change")
        response = await self._conn.unary(
            "Images.Update",
            self._stub.Update,
            images_pb2.UpdateImageRequest(
                image=message, update_mask=field_mask_pb2.FieldMask(paths=paths)
            ),
        )
        return _from_proto(response.image)

    async def delete(self, name: str, *, sync: bool = False) -> None:
        """Delete the record; ``sync`` also waits for GC to free what only it held."""
        await self._conn.unary(
            "Images.Delete", self._stub.Delete, images_pb2.DeleteImageRequest(name=name, sync=sync)
        )
