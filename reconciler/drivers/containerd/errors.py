"""The one place where gRPC status codes become the project's errors.

Why this exists: callers above the driver branch on error *types* (retryable
``RuntimeUnavailable`` vs terminal ones), never on gRPC codes or message text. Every RPC
the client makes goes through ``translate``, which names the socket and the call and
chains the original ``AioRpcError``.

Mapping (containerd's ``errdefs/grpc.go`` is the other side):

    UNAVAILABLE          RuntimeUnavailable   daemon down/restarting, or "content ref locked"
    DEADLINE_EXCEEDED    RuntimeUnavailable   the daemon did not answer in time
    CANCELLED            RuntimeUnavailable   the server aborted the call (e.g. shutting down)
    NOT_FOUND            NotFound
    ALREADY_EXISTS       AlreadyExists
    FAILED_PRECONDITION  FailedPrecondition
    INVALID_ARGUMENT     InvalidArgument
    anything else        RuntimeFailure       shim/runc failures arrive as UNKNOWN
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import grpc

from reconciler.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    RuntimeError_,
    RuntimeFailure,
    RuntimeUnavailable,
)

_BY_CODE: dict[grpc.StatusCode, type[RuntimeError_]] = {
    grpc.StatusCode.UNAVAILABLE: RuntimeUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: RuntimeUnavailable,
    grpc.StatusCode.CANCELLED: RuntimeUnavailable,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
}


def translate(error: grpc.aio.AioRpcError, *, socket: str, call: str) -> RuntimeError_:
    """The project error for a failed RPC ``call`` on ``socket`` (the caller chains it)."""
    code = error.code()
    kind = _BY_CODE.get(code, RuntimeFailure)
    details = error.details() or "no details"
    return kind(f"containerd at {socket}: {call}: {code.name}: {details}")


@contextmanager
def translated(*, socket: str, call: str) -> Iterator[None]:
    """Re-raise any ``AioRpcError`` inside the block as the project error, chained."""
    try:
        yield
    except grpc.aio.AioRpcError as error:
        raise translate(error, socket=socket, call=call) from error
