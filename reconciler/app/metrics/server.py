"""Answering scrapes: prometheus-client's own HTTP server, on a thread, while `run` lives.

Why its server: a scrape is a plain GET that prometheus-client answers whole (the text
and OpenMetrics formats, gzip, `name[]` filters). Why a thread: a slow scraper never
holds up `run`'s event loop; what a scrape reads is safe from another thread
(`collector` says why).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Final

from prometheus_client import CollectorRegistry, start_http_server

from reconciler.app.metrics.address import ListenAddress
from reconciler.errors import UsageError

# serve_forever notices a shutdown within its poll interval (0.5 s).
JOIN_LIMIT: Final = 5.0


@contextlib.contextmanager
def serving(registry: CollectorRegistry, address: ListenAddress) -> Iterator[ListenAddress]:
    """Serve `registry` on `address` for the block; the address bound (the port the
    kernel chose for port 0). One line, no traceback, when it cannot be bound."""
    try:
        server, thread = start_http_server(address.port, address.host, registry)
    except OSError as error:  # in use, not ours to bind, a name that does not resolve
        raise UsageError(f"cannot serve metrics on {address}: {error.strerror or error}") from None
    try:
        yield ListenAddress(host=address.host, port=server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(JOIN_LIMIT)
