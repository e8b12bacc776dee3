"""A misbehaving distribution registry on the test's event loop, for what a real one won't do.

``docker-registry`` never serves bytes that miss their digest, never fails on purpose and
never redirects. This one serves a ``BuiltImage`` under ``/v2/<repo>/`` and can be told to:
replace a blob's bytes, answer the first N requests with 503, demand a fixed bearer token
(its realm is itself) and redirect blob downloads to a second listener ("another host").
Every request is logged with the Authorization header it carried.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tests.support.oci_image import BuiltImage

TOKEN = "fake-token"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Logged:
    port: int
    method: str
    path: str
    authorization: str


@dataclass(kw_only=True)
class FakeRegistry:
    image: BuiltImage
    repository: str = "fake/busybox"
    replaced_blobs: Mapping[str, bytes] = field(default_factory=dict)
    failures_left: int = 0
    require_token: bool = False
    redirect_blobs: bool = False
    log: list[Logged] = field(default_factory=list)
    port: int = 0
    blob_port: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def reference(self) -> str:
        return f"{self.host}/{self.repository}:{self.image.tag}"

    def _blob(self, digest: str) -> bytes | None:
        return self.replaced_blobs.get(digest, self.image.blobs.get(digest))

    def answer(self, port: int, method: str, path: str, headers: Mapping[str, str]) -> bytes:
        reply = self._answer(port, method, path, headers)
        if method == "HEAD":  # no body, whatever the status: the next answer follows its head
            return reply[: reply.index(b"\r\n\r\n") + 4]
        return reply

    def _answer(self, port: int, method: str, path: str, headers: Mapping[str, str]) -> bytes:
        authorization = headers.get("authorization", "")
        self.log.append(Logged(port=port, method=method, path=path, authorization=authorization))
        if self.failures_left > 0:
            self.failures_left -= 1
            return _reply(503, b"try later")
        if path.startswith("/token"):
            return _reply(200, json.dumps({"token": TOKEN}).encode(), "application/json")
        prefix = f"/v2/{self.repository}/"
        if port == self.port and self.require_token and authorization != f"Bearer {TOKEN}":
            challenge = (
                f'Bearer realm="http://{self.host}/token",service="fake",'
                f'scope="repository:{self.repository}:pull"'
            )
            return _reply(401, b"", extra={"WWW-Authenticate": challenge})
        if path.startswith(prefix + "manifests/"):
            wanted = path.removeprefix(prefix + "manifests/")
            target = self.image.target
            digest = target.digest if wanted in (self.image.tag, target.digest) else wanted
            data = self._blob(digest)
            if data is None:
                return _reply(404, b"")
            media_type = json.loads(data).get("mediaType", target.media_type)
            extra = {"Docker-Content-Digest": digest}
            return _reply(200, data, media_type, extra=extra)
        if path.startswith(prefix + "blobs/"):
            if self.redirect_blobs and port == self.port:
                location = f"http://127.0.0.1:{self.blob_port}{path}"
                return _reply(307, b"", extra={"Location": location})
            data = self._blob(path.removeprefix(prefix + "blobs/"))
            if data is None:
                return _reply(404, b"")
            return _reply(200, data, "application/octet-stream")
        return _reply(404, b"")


def _reply(
    status: int,
    body: bytes,
    content_type: str = "text/plain",
    *,
    extra: Mapping[str, str] | None = None,
) -> bytes:
    lines = [
        f"HTTP/1.1 {status} X",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in (extra or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@asynccontextmanager
async def serving(registry: FakeRegistry) -> AsyncIterator[FakeRegistry]:
    """Run the registry (and its second, blob-only listener) for the block."""

    def handler(port_of: list[int]) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    request, *header_lines = head.decode("latin-1").split("\r\n")
                    headers = {}
                    for line in header_lines:
                        name, _, value = line.partition(":")
                        if name:
                            headers[name.strip().lower()] = value.strip()
                    if int(headers.get("content-length", "0")):
                        await reader.readexactly(int(headers["content-length"]))
                    method, path, _ = request.split(" ")
                    writer.write(registry.answer(port_of[0], method, path, headers))
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        return handle

    main_port: list[int] = [0]
    blob_port: list[int] = [0]
    main = await asyncio.start_server(handler(main_port), "127.0.0.1", 0)
    blobs = await asyncio.start_server(handler(blob_port), "127.0.0.1", 0)
    main_port[0] = registry.port = main.sockets[0].getsockname()[1]
    blob_port[0] = registry.blob_port = blobs.sockets[0].getsockname()[1]
    async with main, blobs:
        yield registry
