"""A small asyncio HTTP/1.1 client: just what the distribution API needs.

Why this exists: pulling needs streamed response bodies, cancellation that really stops
the transfer, and kept-alive connections, on the project's one event loop; the stdlib's
``urllib`` blocks and the project adds no HTTP dependency for a handful of GET/HEAD/POST
requests. Scope: ``http``/``https`` (system CA store), ``Content-Length``, chunked and
read-to-close bodies, no compression, no proxies, no redirects (the caller follows them,
because it decides which headers may go to another host).

Invariants: a connection returns to the pool only after its body was read to the end and
neither side asked to close it; a cancelled or failed exchange closes its connection.
Network failures surface as ``OSError`` (``ConnectionError``, ``TimeoutError``...).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

STREAM_LIMIT = 1 << 20
READ_BYTES = 1 << 20
MAX_HEADER_BYTES = 64 << 10
USER_AGENT = "reconciler/0.1"

_Key = tuple[str, str, int]


class ProtocolViolation(ConnectionError):
    """The server's answer was not HTTP/1.x as we understand it."""


@dataclass(frozen=True, kw_only=True)
class Url:
    scheme: str
    host: str
    port: int
    target: str

    @classmethod
    def parse(cls, url: str) -> Url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported URL {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        return cls(scheme=parts.scheme, host=parts.hostname, port=port, target=target)

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class Response:
    """Status and headers (names lower-case), with the body still on the wire."""

    def __init__(
        self,
        *,
        status: int,
        headers: Mapping[str, str],
        body: AsyncIterator[bytes],
    ) -> None:
        self.status = status
        self.headers = headers
        self._body = body

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        async for chunk in self._body:
            yield chunk

    async def read(self, *, limit: int) -> bytes:
        """The whole body; more than ``limit`` bytes is a ``ProtocolViolation``."""
        parts: list[bytes] = []
        total = 0
        async for chunk in self._body:
            total += len(chunk)
            if total > limit:
                raise ProtocolViolation(f"response body larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)


def _parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ProtocolViolation(f"not an HTTP/1.x status line: {lines[0]!r}")
    try:
        status = int(rest.partition(" ")[0])
    except ValueError as error:
        raise ProtocolViolation(f"bad status line {lines[0]!r}") from error
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise ProtocolViolation(f"bad header line {line!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return status, headers


class HttpClient:
    """Keeps idle connections per (scheme, host, port); use ``stream`` per request."""

    def __init__(self, *, timeout: float = 60.0) -> None:
        self._timeout = timeout
        self._idle: dict[_Key, list[_Connection]] = {}
        self._ssl = ssl.create_default_context()

    async def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def _connect(self, url: Url) -> _Connection:
        idle = self._idle.get((url.scheme, url.host, url.port))
        while idle:
            connection = idle.pop()
            if not connection.reader.at_eof() and not connection.writer.is_closing():
                return connection
            connection.close()
        async with asyncio.timeout(self._timeout):
            reader, writer = await asyncio.open_connection(
                url.host,
                url.port,
                ssl=self._ssl if url.scheme == "https" else None,
                limit=STREAM_LIMIT,
            )
        return _Connection(reader, writer)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> AsyncIterator[Response]:
        """Send one request; the response's body must be consumed inside the block."""
        parsed = Url.parse(url)
        connection = await self._connect(parsed)
        reusable = False
        try:
            lines = [f"{method} {parsed.target} HTTP/1.1", f"Host: {parsed.authority}"]
            all_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
            all_headers.update(headers or {})
            if body or method in ("POST", "PUT"):
                all_headers["Content-Length"] = str(len(body))
            lines += [f"{name}: {value}" for name, value in all_headers.items()]
            connection.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            async with asyncio.timeout(self._timeout):
                await connection.writer.drain()
                try:
                    head = await connection.reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as error:
                    raise ConnectionResetError("connection closed before a response") from error
                except asyncio.LimitOverrunError as error:
                    raise ProtocolViolation("response headers too large") from error
            if len(head) > MAX_HEADER_BYTES:
                raise ProtocolViolation("response headers too large")
            status, response_headers = _parse_head(head)
            finished: list[bool] = []
            response = Response(
                status=status,
                headers=response_headers,
                body=self._body(connection, method, status, response_headers, finished),
            )
            yield response
            keep_alive = response_headers.get("connection", "").lower() != "close"
            reusable = bool(finished) and keep_alive
        finally:
            if reusable:
                self._idle.setdefault((parsed.scheme, parsed.host, parsed.port), []).append(
                    connection
                )
            else:
                connection.close()

    async def _body(
        self,
        connection: _Connection,
        method: str,
        status: int,
        headers: Mapping[str, str],
        finished: list[bool],
    ) -> AsyncIterator[bytes]:
        """The body's chunks; appends to ``finished`` once it was read to its end."""
        reader = connection.reader
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            finished.append(True)
            return
        try:
            if "chunked" in headers.get("transfer-encoding", "").lower():
                async for chunk in self._chunked(reader):
                    yield chunk
            elif "content-length" in headers:
                remaining = int(headers["content-length"])
                while remaining > 0:
                    async with asyncio.timeout(self._timeout):
                        chunk = await reader.read(min(READ_BYTES, remaining))
                    if not chunk:
                        raise ConnectionResetError("connection closed inside a response body")
                    remaining -= len(chunk)
                    yield chunk
            else:
                while True:
                    async with asyncio.timeout(self._timeout):
                        chunk = await reader.read(READ_BYTES)
                    if not chunk:
                        return
                    yield chunk
        except asyncio.IncompleteReadError as error:
            raise ConnectionResetError("connection closed inside a response body") from error
        finished.append(True)

    async def _chunked(self, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        while True:
            async with asyncio.timeout(self._timeout):
                size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError as error:
                raise ProtocolViolation(f"bad chunk size line {size_line!r}") from error
            if size == 0:
                async with asyncio.timeout(self._timeout):
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass  # trailers
                return
            async with asyncio.timeout(self._timeout):
                data = await reader.readexactly(size)
                await reader.readexactly(2)
            yield data
