"""Health checks say what they saw: a connect to a tcp:// address, an HTTP status."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from reconciler.app.health import Prober
from reconciler.clock import SystemClock
from reconciler.controllers.knowledge import KnowledgeBook
from reconciler.model.desired import TcpCheck
from tests.support.desired import service

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def prober() -> AsyncIterator[Prober]:
    book = KnowledgeBook()
    made = Prober(
        drivers={},
        clock=SystemClock(),
        knowledge=book.get,
        update=book.update,
        publish=lambda entry: None,
        on_change=lambda: None,
    )
    yield made
    await made.close()


async def test_a_tcp_check_passes_when_a_connection_opens(prober: Prober) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        db = service("db", healthcheck=TcpCheck(host="127.0.0.1", port=port))
        result = await prober.probe("demo", db)
    finally:
        server.close()
        await server.wait_closed()
    assert (result.healthy, result.detail) == (True, f"connected to tcp://127.0.0.1:{port}")


async def test_a_tcp_check_of_a_closed_port_says_it_was_refused(prober: Prober) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = service("db", healthcheck=TcpCheck(host="127.0.0.1", port=port))

    result = await prober.probe("demo", db)

    assert (result.healthy, result.detail) == (
        False,
        f"connection refused (tcp://127.0.0.1:{port})",
    )
