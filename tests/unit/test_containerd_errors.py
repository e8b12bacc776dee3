"""gRPC status codes become the project's error types, once, with socket and call named."""

from __future__ import annotations

import grpc
import pytest

from reconciler.drivers.containerd.errors import translate, translated
from reconciler.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    RuntimeError_,
    RuntimeFailure,
    RuntimeUnavailable,
)


def rpc_error(code: grpc.StatusCode, details: str = "boom") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.UNAVAILABLE, RuntimeUnavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, RuntimeUnavailable),
        (grpc.StatusCode.CANCELLED, RuntimeUnavailable),
        (grpc.StatusCode.NOT_FOUND, NotFound),
        (grpc.StatusCode.ALREADY_EXISTS, AlreadyExists),
        (grpc.StatusCode.FAILED_PRECONDITION, FailedPrecondition),
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidArgument),
        (grpc.StatusCode.UNKNOWN, RuntimeFailure),
        (grpc.StatusCode.UNIMPLEMENTED, RuntimeFailure),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, RuntimeFailure),
        (grpc.StatusCode.OUT_OF_RANGE, RuntimeFailure),
        (grpc.StatusCode.INTERNAL, RuntimeFailure),
    ],
)
def test_each_status_code_maps_to_its_error_type(
    code: grpc.StatusCode, expected: type[RuntimeError_]
) -> None:
    error = translate(rpc_error(code), socket="/run/c.sock", call="Tasks.Get")
    assert type(error) is expected


def test_the_message_names_socket_call_code_and_daemon_text() -> None:
    error = translate(
        rpc_error(grpc.StatusCode.NOT_FOUND, 'container "x" in namespace "n": not found'),
        socket="/run/c.sock",
        call="Containers.Get",
    )
    assert str(error) == (
        'containerd at /run/c.sock: Containers.Get: NOT_FOUND: container "x" in namespace "n":'
        " not found"
    )


def test_translated_chains_the_original_rpc_error() -> None:
    original = rpc_error(grpc.StatusCode.UNAVAILABLE, "Socket closed")
    with pytest.raises(RuntimeUnavailable) as raised, translated(socket="/s", call="Version"):
        raise original
    assert raised.value.__cause__ is original


def test_translated_leaves_other_exceptions_alone() -> None:
    with pytest.raises(ValueError, match="not grpc"), translated(socket="/s", call="Version"):
        raise ValueError("not grpc")
