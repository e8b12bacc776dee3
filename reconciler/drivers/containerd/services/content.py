"""Content service: the namespaced blob store (layers, configs, manifests).

``write`` implements the Write stream's protocol (docs/containerd.md, "Content"): STAT first (which
also tells how much of an interrupted ingest with the same ref is already there), WRITEs
of at most 1 MiB each at the current offset, COMMIT with the expected digest and size.
A blob that already exists in the namespace is success. Another writer holding the ref
makes the daemon answer UNAVAILABLE ("ref ... locked"): that, like a daemon restart, is
retried here with short randomized exponential backoff, as the Go client does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from ctdpb.api.services.content.v1 import content_pb2, content_pb2_grpc
from google.protobuf import field_mask_pb2
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_random_exponential,
)

from reconciler.drivers.containerd import convert
from reconciler.drivers.containerd.connection import STREAM_END, Connection
from reconciler.drivers.containerd.filters import request_filters
from reconciler.drivers.containerd.types import ContentInfo, Digest
from reconciler.errors import AlreadyExists, RuntimeFailure, RuntimeUnavailable

CHUNK_BYTES = 1 << 20
LOCKED_RETRY_FIRST_SECONDS = 0.016
LOCKED_RETRY_MAX_SECONDS = 2.0
LOCKED_RETRY_GIVE_UP_SECONDS = 30.0

ContentSource = Callable[[int], AsyncIterator[bytes]]
"""Opens the blob's bytes starting at the given offset (called again on each retry)."""


def bytes_source(data: bytes) -> ContentSource:
    """A ContentSource over bytes already in memory."""

    async def read_from(offset: int) -> AsyncIterator[bytes]:
        yield data[offset:]

    return read_from


async def _chunks(source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Re-slice whatever the source yields into messages of at most CHUNK_BYTES."""
    async for block in source:
        for start in range(0, len(block), CHUNK_BYTES):
            yield block[start : start + CHUNK_BYTES]


def _from_info(message: Any) -> ContentInfo:
    return ContentInfo(
        digest=Digest(message.digest),
        size=message.size,
        labels=convert.labels(message.labels),
        created_at=convert.from_timestamp(message.created_at),
        updated_at=convert.from_timestamp(message.updated_at),
    )


class Content:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._stub = content_pb2_grpc.ContentStub(connection.channel)

    async def info(self, digest: Digest) -> ContentInfo:
        response = await self._conn.unary(
            "Content.Info", self._stub.Info, content_pb2.InfoRequest(digest=digest)
        )
        return _from_info(response.info)

    async def list(
        self, *, labels: Mapping[str, str] | None = None, filters: Sequence[str] = ()
    ) -> list[ContentInfo]:
        request = content_pb2.ListContentRequest(filters=request_filters(labels, filters))
        with self._conn.translated("Content.List"):
            stream = self._stub.List(
                request, metadata=self._conn.metadata(), timeout=self._conn.call_timeout
            )
            return [_from_info(info) async for response in stream for info in response.info]

    async def update_labels(self, digest: Digest, labels: Mapping[str, str | None]) -> ContentInfo:
        """Set the given labels; a ``None`` value removes that label. Others stay."""
        info = content_pb2.Info(digest=digest, labels=convert.optional_labels(labels))
        mask = field_mask_pb2.FieldMask(paths=convert.update_mask_for_labels(labels))
        response = await self._conn.unary(
            "Content.Update",
            self._stub.Update,
            content_pb2.UpdateRequest(info=info, update_mask=mask),
        )
        return _from_info(response.info)

    async def delete(self, digest: Digest) -> None:
        await self._conn.unary(
            "Content.Delete", self._stub.Delete, content_pb2.DeleteContentRequest(digest=digest)
        )

    async def abort(self, ref: str) -> None:
        """Drop the unfinished ingest ``ref`` and its partial data (NotFound if none)."""
        await self._conn.unary("Content.Abort", self._stub.Abort, content_pb2.AbortRequest(ref=ref))

    async def read(self, digest: Digest, *, offset: int = 0, size: int = 0) -> AsyncIterator[bytes]:
        """The blob's bytes from ``offset`` (``size`` 0 = to the end), in daemon chunks."""
        request = content_pb2.ReadContentRequest(digest=digest, offset=offset, size=size)
        with self._conn.translated("Content.Read"):
            async for response in self._stub.Read(request, metadata=self._conn.metadata()):
                yield response.data

    async def read_all(self, digest: Digest) -> bytes:
        """A small blob (manifest, config) in one piece."""
        return b"".join([chunk async for chunk in self.read(digest)])

    async def write(
        self,
        ref: str,
        source: ContentSource,
        *,
        expected: Digest,
        size: int,
        labels: Mapping[str, str] | None = None,
    ) -> ContentInfo:
        """Store a blob of ``size`` bytes that must hash to ``expected``; idempotent.

        ``ref`` names the ingest (namespaced; any stable string, e.g. ``layer-<digest>``).
        ``labels`` end up on the blob even when it existed already.
        """
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(RuntimeUnavailable),
            wait=wait_random_exponential(
                multiplier=LOCKED_RETRY_FIRST_SECONDS, max=LOCKED_RETRY_MAX_SECONDS
            ),
            stop=stop_after_delay(LOCKED_RETRY_GIVE_UP_SECONDS),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._write_once(ref, source, expected, size, labels or {})
        except AlreadyExists:
            if labels:
                await self.update_labels(expected, labels)
        return await self.info(expected)

    async def _write_once(
        self,
        ref: str,
        source: ContentSource,
        expected: Digest,
        size: int,
        labels: Mapping[str, str],
    ) -> None:
        call = self._stub.Write(metadata=self._conn.metadata())
        try:
            with self._conn.translated("Content.Write"):
                offset = await self._exchange(
                    call,
                    content_pb2.WriteContentRequest(
                        action=content_pb2.STAT, ref=ref, total=size, expected=expected
                    ),
                )
                if offset > size:
                    offset = 0  # a stale ingest longer than the blob: writing at 0 restarts it
                if offset < size:
                    async for chunk in _chunks(source(offset)):
                        offset = await self._exchange(
                            call,
                            content_pb2.WriteContentRequest(
                                action=content_pb2.WRITE, offset=offset, data=chunk
                            ),
                        )
                await self._exchange(
                    call,
                    content_pb2.WriteContentRequest(
                        action=content_pb2.COMMIT,
                        offset=offset,
                        total=size,
                        expected=expected,
                        labels=dict(labels),
                    ),
                )
                await call.done_writing()
                # The server repeats its last response after COMMIT; drain to a clean end.
                while await call.read() is not STREAM_END:
                    pass
        finally:
            call.cancel()

    @staticmethod
    async def _exchange(call: Any, request: Any) -> int:
        """Send one request and return the ingest offset of the server's one answer."""
        await call.write(request)
        response = await call.read()
        if response is STREAM_END:
            raise RuntimeFailure("Content.Write stream ended without an answer to a request")
        return int(response.offset)
