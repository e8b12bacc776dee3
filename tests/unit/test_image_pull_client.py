"""A pull's HTTP client takes proxies from the environment, but never for loopback hosts.

Two tiny servers on loopback addresses: a "proxy" that answers every request with
`proxy` and records the target it was asked for, and a "registry" that answers `direct`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from reconciler.drivers.containerd.images.pull_client import pull_client

pytestmark = pytest.mark.asyncio

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


async def serve(host: str, answer: bytes, targets: list[str]) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        targets.append(head.split(b" ")[1].decode())
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, host, 0)
    return server, server.sockets[0].getsockname()[1]


@pytest_asyncio.fixture
async def proxied(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    """HTTP_PROXY points at the recording proxy; yields the targets it was asked for."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    targets: list[str] = []
    server, port = await serve("127.0.0.1", b"proxy", targets)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    async with server:
        yield targets


@pytest_asyncio.fixture
async def direct() -> AsyncIterator[dict[str, int]]:
    """Servers answering `direct` on 127.0.0.1 and 127.0.0.2: address → port."""
    first, first_port = await serve("127.0.0.1", b"direct", [])
    second, second_port = await serve("127.0.0.2", b"direct", [])
    async with first, second:
        yield {"127.0.0.1": first_port, "127.0.0.2": second_port}


async def get(registry_host: str, url: str) -> str:
    async with pull_client(registry_host) as http:
        return (await http.get(url)).text


async def test_other_hosts_are_reached_through_the_environment_proxy(
    proxied: list[str],
) -> None:
    answer = await get("registry.test", "http://registry.test/v2/")

    assert (answer, proxied) == ("proxy", ["http://registry.test/v2/"])


async def test_no_proxy_hosts_are_reached_directly(
    proxied: list[str], direct: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.2:{direct['127.0.0.2']}/v2/"
    assert await get("registry.test", url) == "proxy"  # a loopback address nobody named

    monkeypatch.setenv("NO_PROXY", "127.0.0.2")

    assert await get("registry.test", url) == "direct"


async def test_loopback_registries_are_never_proxied(
    proxied: list[str], direct: dict[str, int]
) -> None:
    """As Go's resolver: a proxy elsewhere could not reach this machine's loopback."""
    first = f"127.0.0.1:{direct['127.0.0.1']}"
    second = f"127.0.0.2:{direct['127.0.0.2']}"

    assert await get("registry.test", f"http://{first}/v2/") == "direct"
    assert await get("registry.test", f"http://localhost:{direct['127.0.0.1']}/v2/") == "direct"
    assert await get(second, f"http://{second}/v2/") == "direct"  # the registry's own host
    assert proxied == []
