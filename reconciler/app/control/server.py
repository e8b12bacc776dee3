"""The control API served by `reconciler run`: each call asks the runner, nothing more.

Why this exists: `run` is a project's one writer. Other commands must neither act on
the project behind its back nor compute a status of their own; they ask `run` over this
service. The runner answers from its engine (the same typed statuses its passes use);
this module only binds the socket privately and translates errors: a request the
runner refuses (`InvalidOrchfile`, a `ControlError`) becomes a gRPC status whose
details are the one-line messages the client prints.
"""

from __future__ import annotations

import contextlib
import logging
import os
import typing
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import grpc
from reconciler_api import control_pb2 as pb
from reconciler_api import control_pb2_grpc as pb_grpc

from reconciler.app.control.wire import to_message
from reconciler.app.loading import SourceIdentity
from reconciler.app.runner import Runner
from reconciler.errors import ControlError, InvalidOrchfile, ReconcilerError
from reconciler.model.journal import Entry
from reconciler.model.log_limits import DEFAULT_LOG_LIMITS, LogLimits
from reconciler.model.network_mode import NetworkMode
from reconciler.statedir.tree import make_dirs

log = logging.getLogger("reconciler")

STOP_GRACE = 5.0


def event_field(entry: Entry) -> str:
    """The `Event.entry` field an entry travels in: its type's name in snake_case."""
    name = type(entry).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


class _Servicer(pb_grpc.ControlServicer):
    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    async def Status(
        self, request: pb.StatusRequest, context: grpc.aio.ServicerContext[typing.Any, typing.Any]
    ) -> pb.StatusReport:
        report = await self._runner.status()
        return typing.cast(pb.StatusReport, to_message(report, pb.StatusReport()))

    async def Events(
        self, request: pb.EventsRequest, context: grpc.aio.ServicerContext[typing.Any, typing.Any]
    ) -> AsyncIterator[pb.Event]:
        with self._runner.engine.journal.subscribe() as subscription:
            while (entry := await subscription.next()) is not None:
                event = pb.Event(dropped=subscription.dropped)
                to_message(entry, getattr(event, event_field(entry)))
                yield event

    async def Apply(
        self, request: pb.ApplyRequest, context: grpc.aio.ServicerContext[typing.Any, typing.Any]
    ) -> pb.Outcome:
        limit = request.timeout.ToTimedelta()
        async with _refusals(context):
            identity = SourceIdentity(
                files=tuple(request.files),
                args=dict(request.args),
                network=_network_mode(request.network),
                log_limits=_log_limits(request),
            )
            outcome = await self._runner.apply(identity, wait=request.wait, limit=limit)
        return typing.cast(pb.Outcome, to_message(outcome, pb.Outcome()))

    async def Restart(
        self, request: pb.RestartRequest, context: grpc.aio.ServicerContext[typing.Any, typing.Any]
    ) -> pb.Outcome:
        async with _refusals(context):
            outcome = await self._runner.restart(
                list(request.services), limit=request.timeout.ToTimedelta()
            )
        return typing.cast(pb.Outcome, to_message(outcome, pb.Outcome()))

    async def Down(
        self, request: pb.DownRequest, context: grpc.aio.ServicerContext[typing.Any, typing.Any]
    ) -> pb.DownResult:
        grace: timedelta | None = request.grace.ToTimedelta() if request.HasField("grace") else None
        async with _refusals(context):
            result = await self._runner.down(grace, volumes=request.volumes)
        return typing.cast(pb.DownResult, to_message(result, pb.DownResult()))


@contextlib.asynccontextmanager
async def _refusals(
    context: grpc.aio.ServicerContext[typing.Any, typing.Any],
) -> AsyncIterator[None]:
    try:
        yield
    except InvalidOrchfile as invalid:
        lines = "\n".join(str(d) for d in invalid.diagnostics) or str(invalid)
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, lines)
    except ControlError as refused:
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(refused))
    except ReconcilerError as error:
        await context.abort(grpc.StatusCode.ABORTED, str(error))


class ControlServer:
    """The API on `socket` while `run` lives; start before the first pass."""

    def __init__(self, runner: Runner, socket: Path, *, state_dir: Path) -> None:
        self._runner = runner
        self._socket = socket
        self._state_dir = state_dir
        self._server: grpc.aio.Server | None = None

    async def start(self) -> None:
        make_dirs(self._socket.parent, below=self._state_dir)
        # The lock is ours: a socket file here is a dead `run`'s.
        self._socket.unlink(missing_ok=True)
        server = grpc.aio.server()
        pb_grpc.add_ControlServicer_to_server(_Servicer(self._runner), server)  # type: ignore[no-untyped-call]  # generated glue
        previous = os.umask(0o077)
        try:
            server.add_insecure_port(f"unix:{self._socket}")
            await server.start()
        finally:
            os.umask(previous)
        os.chmod(self._socket, 0o600)
        self._server = server
        log.debug("control API on %s", self._socket)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        await server.stop(STOP_GRACE)
        self._socket.unlink(missing_ok=True)


def _log_limits(request: pb.ApplyRequest) -> LogLimits | None:
    """The limits an `apply` stated; the defaults stand in for a half that it did not."""
    size = request.log_max_size if request.HasField("log_max_size") else None
    files = request.log_max_files if request.HasField("log_max_files") else None
    if size is None and files is None:
        return None
    return LogLimits(
        max_size=size if size is not None else DEFAULT_LOG_LIMITS.max_size,
        max_files=files if files is not None else DEFAULT_LOG_LIMITS.max_files,
    )


def _network_mode(text: str) -> NetworkMode:
    try:
        return NetworkMode(text or NetworkMode.BRIDGE.value)
    except ValueError:
        raise ControlError(f"'{text}' is not a network mode (bridge or host)") from None
