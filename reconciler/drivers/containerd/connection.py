"""One gRPC channel to one containerd socket, and how every call is made on it.

Why this exists: channel options, per-call metadata (namespace, lease), deadlines and
error translation must be identical for every service; the service modules only build
requests and convert responses.

Invariants:
* The channel is never replaced: grpc.aio reconnects it by itself after a daemon
  restart, with the backoff capped at ``RECONNECT_BACKOFF_MS`` so recovery takes well
  under a second instead of growing toward grpcio's default of two minutes
  (docs/containerd.md, "Connecting").
* No keepalive pings: containerd 1.6 answers frequent pings with GOAWAY
  ``too_many_pings``, killing long streams like Events.Subscribe.
* The lease header comes from a context variable, so a lease applies to the asyncio task
  (and the tasks it spawns) that entered ``using_lease`` and to nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

import grpc

from .errors import translated
from .types import LeaseId

MAX_MESSAGE_BYTES = 16 << 20  # containerd's own limit; grpcio receives only 4 MiB by default
RECONNECT_BACKOFF_MS = 1000

CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MS),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
)

NAMESPACE_HEADER = "containerd-namespace"
LEASE_HEADER = "containerd-lease"

_current_lease: ContextVar[LeaseId | None] = ContextVar("containerd_lease", default=None)

Metadata = tuple[tuple[str, str], ...]

STREAM_END: object = grpc.aio.EOF  # type: ignore[attr-defined]  # absent from grpc-stubs
"""What ``read()`` of a streaming call returns once the server has closed the stream."""


def grpc_target(address: str) -> str:
    """The grpcio target for a socket path or ``unix:`` address (``unix:///abs/path``)."""
    for prefix in ("unix://", "unix:"):
        if address.startswith(prefix):
            address = address.removeprefix(prefix)
            break
    if not address.startswith("/"):
        raise ValueError(f"containerd address must be an absolute unix socket path: {address!r}")
    return f"unix://{address}"


class Connection:
    """The channel plus the namespace and deadline every call of one client uses."""

    def __init__(self, *, address: str, namespace: str, call_timeout: float) -> None:
        self.target = grpc_target(address)
        self.socket = self.target.removeprefix("unix://")
        self.namespace = namespace
        self.call_timeout = call_timeout
        self.channel = grpc.aio.insecure_channel(self.target, options=CHANNEL_OPTIONS)

    def metadata(self, *, with_lease: bool = True) -> Metadata:
        """Headers for a namespaced call: the namespace, and the current lease if any."""
        headers: list[tuple[str, str]] = [(NAMESPACE_HEADER, self.namespace)]
        lease = _current_lease.get()
        if with_lease and lease is not None:
            headers.append((LEASE_HEADER, lease))
        return tuple(headers)

    @contextmanager
    def using_lease(self, lease_id: LeaseId) -> Iterator[None]:
        """Attach everything created by calls inside the block to ``lease_id``."""
        token = _current_lease.set(lease_id)
        try:
            yield
        finally:
            _current_lease.reset(token)

    def translated(self, call: str) -> AbstractContextManager[None]:
        """A context manager turning gRPC errors of ``call`` into project errors."""
        return translated(socket=self.socket, call=call)

    async def unary(
        self,
        call: str,
        method: Any,
        request: Any,
        *,
        metadata: Metadata | None = None,
        deadline: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109 - gRPC deadlines are the cancel path
        wait_for_ready: bool = False,
    ) -> Any:
        """Invoke a unary ``method`` with the client's deadline, or ``timeout`` if given.

        ``deadline=False`` is for calls that block by design (Tasks.Wait, Diff.Apply).
        """
        if timeout is None and deadline:
            timeout = self.call_timeout
        with translated(socket=self.socket, call=call):
            return await method(
                request,
                metadata=self.metadata() if metadata is None else metadata,
                timeout=timeout,
                wait_for_ready=wait_for_ready,
            )

    async def close(self) -> None:
        await self.channel.close(grace=None)
