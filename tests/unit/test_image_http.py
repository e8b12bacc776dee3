"""The small HTTP client reads every body framing the distribution API can send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from reconciler.drivers.containerd.images.http import HttpClient

pytestmark = pytest.mark.asyncio

ANSWERS = {
    b"/length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"/chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: t\r\n\r\n"
    ),
    b"/close": b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nhello",
}


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[str, list[int]]]:
    """A tiny HTTP server; yields its base URL and the count of connections it accepted."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            path = head.split(b" ")[1]
            writer.write(ANSWERS[path])
            await writer.drain()
            if path == b"/close":
                break
        writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield f"http://127.0.0.1:{port}", connections


@pytest.mark.parametrize("path", ["/length", "/chunked", "/close"])
async def test_each_body_framing_reads_to_the_same_bytes(
    server: tuple[str, list[int]], path: str
) -> None:
    base, _ = server
    client = HttpClient(timeout=5)
    try:
        async with client.stream("GET", base + path) as response:
            body = await response.read(limit=100)
    finally:
        await client.close()

    assert (response.status, body) == (200, b"hello")


async def test_a_fully_read_response_leaves_its_connection_for_the_next_request(
    server: tuple[str, list[int]],
) -> None:
    base, connections = server
    client = HttpClient(timeout=5)
    try:
        for path in ("/length", "/chunked", "/length"):
            async with client.stream("GET", base + path) as response:
                await response.read(limit=100)
    finally:
        await client.close()

    assert len(connections) == 1
