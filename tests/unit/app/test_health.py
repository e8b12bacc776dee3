"""Health checks say what they saw: a connect to a tcp:// address, an HTTP status."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import pytest_asyncio

from reconciler.app.health import Prober, http_check
from reconciler.clock import SystemClock
from reconciler.controllers.knowledge import KnowledgeBook
from reconciler.model.desired import HttpCheck, TcpCheck
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


class Answering(BaseHTTPRequestHandler):
    """`/ok` 200, `/moved` redirects to `/ok`, anything else 404."""

    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/ok")
        else:
            self.send_response(200 if self.path == "/ok" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    """An HTTP server on loopback, in a thread; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("path", "healthy", "status"), [("/ok", True, 200), ("/moved", True, 200), ("/no", False, 404)]
)
async def test_an_http_check_is_healthy_on_2xx_after_redirects(
    prober: Prober, web: str, path: str, healthy: bool, status: int
) -> None:
    result = await prober.probe("demo", service("web", healthcheck=HttpCheck(url=web + path)))

    assert (result.healthy, result.detail) == (healthy, f"HTTP {status} from {web}{path}")


async def test_an_http_check_of_a_closed_port_says_it_was_refused(prober: Prober) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"

    result = await prober.probe("demo", service("web", healthcheck=HttpCheck(url=url)))

    assert (result.healthy, result.detail) == (False, f"connection refused ({url})")


async def test_an_http_check_of_a_server_that_never_answers_says_it_timed_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts the connection; nobody reads the request
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"

        result = await asyncio.to_thread(http_check, url, 0.2)

    assert result == (False, f"timed out after 0.2s ({url})")


async def test_an_http_check_never_goes_through_a_proxy_from_the_environment(
    prober: Prober, web: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{dead.getsockname()[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    result = await prober.probe("demo", service("web", healthcheck=HttpCheck(url=f"{web}/ok")))

    assert result.healthy, result.detail
