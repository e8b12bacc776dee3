"""An OCI distribution client for one repository: resolve, manifests, streamed blobs.

Why this exists: containerd 1.6 does not pull by itself (docs/containerd.md, "Images");
the Go client resolves a tag with ``HEAD /v2/<repo>/manifests/<tag>`` (full Accept
list), fetches manifests by digest, streams blobs into the content store, and answers
401 challenges with Bearer tokens or Basic auth. This does the same, as a
``BlobFetcher``, over the pull's httpx client (``pull_client``) with ``RegistryAuth``
answering the challenges.

Rules kept here: plain HTTP only for loopback hosts and hosts the caller marks insecure;
manifests are verified against their digest before anyone parses them; connection
failures, resets, 5xx and 429 are retried with capped, jittered backoff and then become
``RegistryUnavailable``; 404 is ``ImageNotFound``; refused logins ``RegistryAuthError``.
httpx's errors never leave this module and ``registry_auth``: they become those.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx

from reconciler.connection_errors import why_connection_failed
from reconciler.drivers.containerd.services.content import CHUNK_BYTES, ContentSource
from reconciler.drivers.containerd.types import Descriptor, Digest
from reconciler.errors import (
    ImageDigestMismatch,
    ImageError,
    ImageNotFound,
    RegistryAuthError,
    RegistryUnavailable,
)

from . import oci
from .auth import Credentials
from .pull_client import BodyTooLarge, read_at_most
from .reference import ImageReference, is_loopback
from .registry_auth import RegistryAuth
from .registry_options import RegistryOptions

ERROR_DETAIL_BYTES = 200


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip()


class Registry:
    """One repository on one registry host, with its auth state for this pull."""

    def __init__(
        self,
        reference: ImageReference,
        *,
        http: httpx.AsyncClient,
        credentials: Credentials | None,
        options: RegistryOptions,
    ) -> None:
        self._reference = reference
        self._http = http
        self._options = options
        host = reference.api_host
        plain = is_loopback(host) or reference.domain in options.insecure_hosts
        self._base = f"{'http' if plain else 'https'}://{host}"
        self._auth = RegistryAuth(
            reference, http=http, credentials=credentials, retry=options.retry, what=self._what
        )

    @property
    def origin(self) -> str:
        return f"registry {self._reference.api_host}"

    def _what(self, detail: str) -> str:
        return f"image {self._reference}: {detail} ({self.origin})"

    async def resolve(self) -> Descriptor:
        """The descriptor the reference's tag or digest points at (manifest or index)."""
        path = f"/v2/{self._reference.path}/manifests/{self._reference.object}"
        headers = {"Accept": ", ".join(oci.MANIFEST_ACCEPT)}
        response_headers, _ = await self._fetch("HEAD", path, headers, what="manifest")
        digest = response_headers.get("docker-content-digest", "")
        length = response_headers.get("content-length", "")
        media_type = _media_type(response_headers)
        if digest and length.isdigit() and media_type:
            descriptor = Descriptor(media_type=media_type, digest=Digest(digest), size=int(length))
        else:
            response_headers, body = await self._fetch("GET", path, headers, what="manifest")
            media_type = media_type or _media_type(response_headers)
            if not media_type:
                media_type = str(json.loads(body).get("mediaType", ""))
            descriptor = Descriptor(
                media_type=media_type, digest=oci.digest_of(body), size=len(body)
            )
        pinned = self._reference.digest
        if pinned and descriptor.digest != pinned:
            raise ImageDigestMismatch(self._what(f"registry answered {descriptor.digest}"))
        if descriptor.size > oci.MAX_MANIFEST_BYTES:
            raise ImageError(self._what(f"manifest of {descriptor.size} bytes is too large"))
        return descriptor

    async def read(self, descriptor: Descriptor) -> bytes:
        """A manifest, index or config, verified against its digest."""
        if descriptor.size > oci.MAX_MANIFEST_BYTES:
            raise ImageError(self._what(f"{descriptor.digest} is too large to hold in memory"))
        if oci.is_manifest_or_index(descriptor.media_type):
            path = f"/v2/{self._reference.path}/manifests/{descriptor.digest}"
            headers = {"Accept": f"{descriptor.media_type}, */*"}
        else:
            path = f"/v2/{self._reference.path}/blobs/{descriptor.digest}"
            headers = {}
        _, body = await self._fetch("GET", path, headers, what=descriptor.digest)
        oci.verify(body, descriptor, what=self._what("blob"))
        return body

    def open_blob(self, descriptor: Descriptor) -> ContentSource:
        path = f"/v2/{self._reference.path}/blobs/{descriptor.digest}"

        async def from_offset(offset: int) -> AsyncIterator[bytes]:
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            async with self._exchange("GET", path, headers) as response:
                if response.status_code not in (200, 206):
                    await self._raise_for(response, what=descriptor.digest)
                skip = offset if response.status_code == 200 else 0
                # Whole messages for the daemon: each chunk is one round trip of the write,
                # and httpx reads 64 KiB at a time.
                async for received in response.aiter_bytes(CHUNK_BYTES):
                    dropped = min(skip, len(received))
                    skip -= dropped
                    if dropped < len(received):
                        yield received[dropped:] if dropped else received

        return from_offset

    async def _fetch(
        self, method: str, path: str, headers: Mapping[str, str], *, what: str
    ) -> tuple[Mapping[str, str], bytes]:
        """A whole small response, retried; non-2xx statuses become project errors."""
        async for attempt in self._options.retry.retrying():
            with attempt:
                async with self._exchange(method, path, headers) as response:
                    if not response.is_success:
                        await self._raise_for(response, what=what)
                    return response.headers, await read_at_most(response, oci.MAX_MANIFEST_BYTES)
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    @asynccontextmanager
    async def _exchange(
        self, method: str, path: str, headers: Mapping[str, str]
    ) -> AsyncIterator[httpx.Response]:
        """One request to the registry, logged in and following redirects, its body still
        to read inside the block; httpx's failures come out as the project's errors."""
        try:
            async with self._http.stream(
                method, self._base + path, headers=headers, auth=self._auth
            ) as response:
                yield response
        except httpx.TooManyRedirects as error:
            raise ImageError(self._what(f"too many redirects for {path}")) from error
        except BodyTooLarge as error:
            raise ImageError(self._what(f"{path}: {error}")) from error
        except httpx.RequestError as error:
            raise self._unavailable(error) from error

    def _unavailable(self, error: httpx.RequestError) -> RegistryUnavailable:
        """Names the host that failed: the registry, or the one it redirected us to."""
        url = error.request.url
        where = f"{url.scheme}://{url.netloc.decode('ascii')}"
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError):
            return RegistryUnavailable(
                self._what(f"cannot reach {where}: {why_connection_failed(error)}")
            )
        return RegistryUnavailable(
            self._what(f"connection to {where} failed: {why_connection_failed(error)}")
        )

    async def _raise_for(self, response: httpx.Response, *, what: str) -> None:
        status = response.status_code
        detail = ""
        if status != 404:
            start = b""
            async for chunk in response.aiter_bytes():
                start += chunk
                if len(start) >= ERROR_DETAIL_BYTES:
                    break
            # One line, whatever the server wrote: errors are printed as one.
            detail = " ".join(start[:ERROR_DETAIL_BYTES].decode(errors="replace").split())
        if status == 404:
            raise ImageNotFound(self._what(f"{what} not found (404)"))
        if status in (401, 403):
            raise RegistryAuthError(self._what(f"access to {what} refused ({status})"))
        if status == 429 or status >= 500:
            raise RegistryUnavailable(self._what(f"{what}: HTTP {status} {detail}".strip()))
        raise ImageError(self._what(f"{what}: unexpected HTTP {status} {detail}".strip()))
