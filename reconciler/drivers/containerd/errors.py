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
from typing import Final

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


# What a connection failure's details say, and what that means for the user: grpc's own
# text ("failed to connect to all addresses; last error: ...") is for grpc's authors.
_UNREACHABLE: Final = (
    ("No such file or directory", "no socket there"),
    ("Connection refused", "nothing listens there (connection refused)"),
    ("Permission denied", "permission denied (containerd's socket is root's)"),
    ("SETTINGS frame", "something listens there, but it is not containerd (no gRPC answer)"),
    ("Socket closed", "something listens there, but it is not containerd (closed at once)"),
    ("Connection reset", "the connection was reset (containerd restarting?)"),
)


def translate(error: grpc.aio.AioRpcError, *, socket: str, call: str) -> RuntimeError_:
    """The project error for a failed RPC ``call`` on ``socket`` (the caller chains it)."""
    code = error.code()
    kind = _BY_CODE.get(code, RuntimeFailure)
    details = error.details() or "no details"
    if code is grpc.StatusCode.UNAVAILABLE and "failed to connect" in details:
        what = next((m for key, m in _UNREACHABLE if key in details), "it does not answer")
        return kind(f"no containerd at {socket}: {what}")
    return kind(f"containerd at {socket}: {call}: {code.name}: {details}")


@contextmanager
def translated(*, socket: str, call: str) -> Iterator[None]:
    """Re-raise any ``AioRpcError`` inside the block as the project error, chained."""
    try:
        yield
    except grpc.aio.AioRpcError as error:
        raise translate(error, socket=socket, call=call) from error
