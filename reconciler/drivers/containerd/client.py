"""The typed asyncio client for one containerd daemon and namespace.

Why this exists: it is the driver's single seam to containerd. Everything above it gets
frozen records (``types``, ``events``) and project errors (``reconciler.errors``), never
protobuf messages or gRPC status codes.

Usage::

    async with ContainerdClient(address="unix:///run/containerd/containerd.sock",
                                namespace="orch") as client:
        await client.wait_until_ready(timeout=10)
        async with client.lease(expires_in=timedelta(hours=1)):
            mounts = await client.snapshots.prepare("web", parent=chain_id)
            ...

The client must be created inside the running event loop it is used on (grpc.aio binds
the channel to it). The channel reconnects by itself after daemon restarts; calls made
while the daemon is down fail fast with ``RuntimeUnavailable``.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING

from ctdpb.api.services.version.v1 import version_pb2_grpc
from google.protobuf import empty_pb2

from reconciler.errors import RuntimeUnavailable
from reconciler.model.labels import OWNER

from . import lease_owner
from .connection import Connection
from .services.containers import Containers
from .services.content import Content
from .services.diff import Diff
from .services.images import Images
from .services.leases import Leases
from .services.namespaces import Namespaces
from .services.snapshots import Snapshots
from .services.tasks import Tasks
from .types import DEFAULT_SNAPSHOTTER, Lease, LeaseId, VersionInfo

if TYPE_CHECKING:
    from .events import Events

DEFAULT_CALL_TIMEOUT = 30.0


class ContainerdClient:
    """containerd's services for one namespace, over one reconnecting channel."""

    def __init__(
        self,
        *,
        address: str,
        namespace: str,
        snapshotter: str = DEFAULT_SNAPSHOTTER,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
    ) -> None:
        self._conn = Connection(address=address, namespace=namespace, call_timeout=call_timeout)
        self._version = version_pb2_grpc.VersionStub(self._conn.channel)
        self.containers = Containers(self._conn)
        self.tasks = Tasks(self._conn)
        self.snapshots = Snapshots(self._conn, snapshotter)
        self.content = Content(self._conn)
        self.images = Images(self._conn)
        self.diff = Diff(self._conn)
        self.leases = Leases(self._conn)
        self.namespaces = Namespaces(self._conn)

    @functools.cached_property
    def events(self) -> Events:
        # Imported on first use: the stream and its two dozen decoders are for `run`,
        # `apply` and `leak-check --settle`, never for `status` or `plan`.
        from .events import Events

        return Events(self._conn)

    @property
    def socket(self) -> str:
        return self._conn.socket

    @property
    def namespace(self) -> str:
        return self._conn.namespace

    async def __aenter__(self) -> ContainerdClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._conn.close()

    async def version(self) -> VersionInfo:
        """The daemon's version; needs no namespace, so it doubles as a liveness probe."""
        response = await self._conn.unary(
            "Version.Version", self._version.Version, empty_pb2.Empty(), metadata=()
        )
        return VersionInfo(version=response.version, revision=response.revision)

    async def wait_until_ready(self, timeout: float) -> VersionInfo:  # noqa: ASYNC109 - a gRPC deadline
        """Wait up to ``timeout`` seconds for the daemon to answer (e.g. at startup)."""
        try:
            response = await self._conn.unary(
                "Version.Version",
                self._version.Version,
                empty_pb2.Empty(),
                metadata=(),
                wait_for_ready=True,
                timeout=timeout,
            )
        except RuntimeUnavailable as error:
            raise RuntimeUnavailable(
                f"containerd at {self.socket} not ready after {timeout:g}s"
            ) from error
        return VersionInfo(version=response.version, revision=response.revision)

    @contextmanager
    def using_lease(self, lease_id: LeaseId) -> Iterator[None]:
        """Attach what calls in this block (this asyncio task) create to ``lease_id``."""
        with self._conn.using_lease(lease_id):
            yield

    @asynccontextmanager
    async def lease(
        self,
        *,
        expires_in: timedelta,
        labels: Mapping[str, str] | None = None,
        sync_delete: bool = False,
    ) -> AsyncIterator[Lease]:
        """A fresh lease, used by calls in the block and deleted when it ends.

        The expiry makes a crash inside the block harmless: once it passes, GC collects
        the lease and whatever only it protected. Objects that must outlive the block need
        another root (an image record, a container) before it ends.
        """
        lease = await self.leases.create(
            LeaseId(f"reconciler-{secrets.token_hex(8)}"),
            expires_at=datetime.now(UTC) + expires_in,
            labels={**(labels or {}), OWNER: lease_owner.this_process()},
        )
        try:
            with self._conn.using_lease(lease.id):
                yield lease
        finally:
            await self.leases.delete(lease.id, sync=sync_delete)
