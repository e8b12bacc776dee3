"""Talking to the `reconciler run` that holds a project, over its control socket.

Why this exists: every command that a `run` should answer (`status`, `apply`,
`restart`, `down`, `events`) first asks whether one holds the project, then talks to it
in the model's own types. A socket file that nobody answers (a `run` killed by SIGKILL
leaves it) is no `run`; gRPC failures become one-line `ControlError`s naming the
socket, and a refusal carries `run`'s own words (`FILE:LINE: ...` for a bad Orchfile).
"""

from __future__ import annotations

import socket
import typing
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Final

import grpc
from reconciler_api import control_pb2 as pb
from reconciler_api import control_pb2_grpc as pb_grpc

from reconciler.app.control.wire import from_message
from reconciler.app.loading import SourceIdentity
from reconciler.app.results import DownResult, Outcome
from reconciler.errors import ControlError, Diagnostic, InvalidOrchfile
from reconciler.model import journal
from reconciler.model.status import StatusReport

CONNECT_TIMEOUT: Final = 1.0
CALL_TIMEOUT: Final = 30.0
# A request that waits (`apply --wait`, `down`) gets this much beyond its own limit.
REPLY_MARGIN: Final = 60.0

_ENTRY_TYPES: Final = {
    "".join(f"_{c.lower()}" if c.isupper() else c for c in kind.__name__).lstrip("_"): kind
    for kind in typing.get_args(journal.Entry)
}


class ControlClient:
    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self._channel = grpc.aio.insecure_channel(f"unix:{socket}")
        self._stub = pb_grpc.ControlStub(self._channel)  # type: ignore[no-untyped-call]  # generated

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close(grace=None)

    def listening(self) -> bool:
        """Something listens on the socket: a live `run` (only the lock holder binds it).
        A socket file left by a killed `run` refuses at once."""
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(CONNECT_TIMEOUT)
        try:
            probe.connect(str(self.socket))
        except OSError:
            return False
        finally:
            probe.close()
        return True

    async def status(self) -> StatusReport:
        call = self._stub.Status(pb.StatusRequest(), timeout=CALL_TIMEOUT)
        reply = await self._call("status", call)
        return from_message(StatusReport, reply)

    async def apply(self, identity: SourceIdentity, *, wait: bool, limit: timedelta) -> Outcome:
        request = pb.ApplyRequest(
            files=list(identity.files),
            args=dict(identity.args),
            wait=wait,
            network=identity.network.value,
        )
        if identity.log_limits is not None:
            request.log_max_size = identity.log_limits.max_size
            request.log_max_files = identity.log_limits.max_files
        request.timeout.FromTimedelta(limit)
        call = self._stub.Apply(request, timeout=limit.total_seconds() + REPLY_MARGIN)
        return from_message(Outcome, await self._call("apply", call))

    async def restart(self, services: list[str], *, limit: timedelta) -> Outcome:
        request = pb.RestartRequest(services=services)
        request.timeout.FromTimedelta(limit)
        call = self._stub.Restart(request, timeout=limit.total_seconds() + REPLY_MARGIN)
        return from_message(Outcome, await self._call("restart", call))

    async def down(self, grace: timedelta | None, *, volumes: bool = False) -> DownResult:
        request = pb.DownRequest(volumes=volumes)
        if grace is not None:
            request.grace.FromTimedelta(grace)
        call = self._stub.Down(request)
        return from_message(DownResult, await self._call("down", call))

    async def events(self) -> AsyncIterator[tuple[journal.Entry, int]]:
        """Entries as `run` publishes them, with how many this reader has lost so far."""
        stream = self._stub.Events(pb.EventsRequest())
        try:
            async for event in stream:
                field = event.WhichOneof("entry")
                if field is None:
                    continue
                kind = _ENTRY_TYPES[field]
                entry = typing.cast(journal.Entry, from_message(kind, getattr(event, field)))
                yield entry, int(event.dropped)
        except grpc.aio.AioRpcError as error:
            raise self._translated("events", error) from error
        finally:
            stream.cancel()

    async def _call(self, what: str, call: typing.Awaitable[typing.Any]) -> typing.Any:
        try:
            return await call
        except grpc.aio.AioRpcError as error:
            raise self._translated(what, error) from error

    def _translated(self, what: str, error: grpc.aio.AioRpcError) -> Exception:
        details = error.details() or error.code().name
        match error.code():
            case grpc.StatusCode.INVALID_ARGUMENT:
                return InvalidOrchfile(
                    [Diagnostic(location=None, message=line) for line in details.splitlines()]
                )
            case grpc.StatusCode.FAILED_PRECONDITION | grpc.StatusCode.ABORTED:
                return ControlError(details)
            case grpc.StatusCode.UNAVAILABLE | grpc.StatusCode.CANCELLED:
                return ControlError(
                    f"the `reconciler run` at {self.socket} went away during {what}"
                )
            case _:
                return ControlError(f"{what} through `reconciler run` ({self.socket}): {details}")
