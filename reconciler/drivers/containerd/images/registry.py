"""An OCI distribution client for one repository: resolve, manifests, streamed blobs.

Why this exists: containerd 1.6 does not pull by itself (docs/containerd.md, "Images");
the Go client resolves a tag with ``HEAD /v2/<repo>/manifests/<tag>`` (full Accept
list), fetches manifests by digest, streams blobs into the content store, and answers
401 challenges with Bearer tokens or Basic auth. This does the same, as a
``BlobFetcher``.

Rules kept here: plain HTTP only for loopback hosts and hosts the caller marks insecure;
the registry's ``Authorization`` never follows a redirect to another host; manifests are
verified against their digest before anyone parses them; connection failures, resets,
5xx and 429 are retried with capped, jittered backoff and then become
``RegistryUnavailable``; 404 is ``ImageNotFound``; refused logins ``RegistryAuthError``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from reconciler.drivers.containerd.services.content import ContentSource
from reconciler.drivers.containerd.types import Descriptor, Digest
from reconciler.errors import (
    ImageDigestMismatch,
    ImageError,
    ImageNotFound,
    RegistryAuthError,
    RegistryUnavailable,
)

from . import oci
from .auth import Challenge, Credentials, parse_challenges
from .http import HttpClient, Response
from .reference import ImageReference, is_loopback

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
TOKEN_CLIENT_ID = "reconciler"
TOKEN_POST_FALLBACK = frozenset({400, 401, 404, 405})
ERROR_BODY_LIMIT = 64 << 10


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How hard to try a registry before it is ``RegistryUnavailable``."""

    attempts: int = 5
    first_wait: float = 0.1
    max_wait: float = 5.0

    def retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception_type((OSError, RegistryUnavailable)),
            wait=wait_random_exponential(multiplier=self.first_wait, max=self.max_wait),
            stop=stop_after_attempt(self.attempts),
            reraise=True,
        )


@dataclass(frozen=True, kw_only=True)
class RegistryOptions:
    """Pull settings: hosts reached over plain HTTP besides loopback, retries."""

    insecure_hosts: frozenset[str] = frozenset()
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip()


class Registry:
    """One repository on one registry host, with its auth state for this pull."""

    def __init__(
        self,
        reference: ImageReference,
        *,
        http: HttpClient,
        credentials: Credentials | None,
        options: RegistryOptions,
    ) -> None:
        self._reference = reference
        self._http = http
        self._credentials = credentials
        self._options = options
        host = reference.api_host
        plain = is_loopback(host) or reference.domain in options.insecure_hosts
        self._base = f"{'http' if plain else 'https'}://{host}"
        self._authorization: str | None = None

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
            async with self._open("GET", path, headers) as response:
                if response.status not in (200, 206):
                    await self._raise_for(response, what=descriptor.digest)
                skip = offset if response.status == 200 else 0
                async for received in response.iter_bytes():
                    dropped = min(skip, len(received))
                    skip -= dropped
                    if dropped < len(received):
                        yield received[dropped:] if dropped else received

        return from_offset

    async def _fetch(
        self, method: str, path: str, headers: Mapping[str, str], *, what: str
    ) -> tuple[Mapping[str, str], bytes]:
        """A whole small response, retried; non-2xx statuses become project errors."""
        try:
            async for attempt in self._options.retry.retrying():
                with attempt:
                    async with self._open(method, path, headers) as response:
                        if not 200 <= response.status < 300:
                            await self._raise_for(response, what=what)
                        body = await response.read(limit=oci.MAX_MANIFEST_BYTES)
                        return response.headers, body
        except OSError as error:
            raise self.unreachable(error) from error
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    def unreachable(self, error: OSError) -> RegistryUnavailable:
        return RegistryUnavailable(self._what(f"cannot reach {self._base}: {error}"))

    async def _raise_for(self, response: Response, *, what: str) -> None:
        status = response.status
        detail = ""
        if status != 404:
            detail = (await response.read(limit=ERROR_BODY_LIMIT)).decode(errors="replace")[:200]
        if status == 404:
            raise ImageNotFound(self._what(f"{what} not found (404)"))
        if status in (401, 403):
            raise RegistryAuthError(self._what(f"access to {what} refused ({status})"))
        if status == 429 or status >= 500:
            raise RegistryUnavailable(self._what(f"{what}: HTTP {status} {detail}".strip()))
        raise ImageError(self._what(f"{what}: unexpected HTTP {status} {detail}".strip()))

    @asynccontextmanager
    async def _open(
        self, method: str, path: str, headers: Mapping[str, str]
    ) -> AsyncIterator[Response]:
        """One exchange, answering one 401 challenge and following redirects."""
        url = self._base + path
        challenged = False
        for _ in range(MAX_REDIRECTS + 2):
            own_host = urlsplit(url).netloc == urlsplit(self._base).netloc
            send = dict(headers)
            if own_host and self._authorization:
                send["Authorization"] = self._authorization
            challenge = location = ""
            async with AsyncExitStack() as stack:
                response = await stack.enter_async_context(
                    self._http.stream(method, url, headers=send)
                )
                if response.status == 401 and own_host and not challenged:
                    challenge = response.headers.get("www-authenticate", "")
                    await response.read(limit=ERROR_BODY_LIMIT)
                elif response.status in REDIRECTS and "location" in response.headers:
                    location = urljoin(url, response.headers["location"])
                    await response.read(limit=ERROR_BODY_LIMIT)
                else:
                    yield response
                    return
            if location:
                url = location
                continue
            challenged = True
            self._authorization = await self._authorize(challenge)
        raise ImageError(self._what(f"too many redirects for {path}"))

    async def _authorize(self, header: str) -> str:
        challenges = parse_challenges(header)
        for challenge in challenges:
            if challenge.scheme == "bearer" and challenge.realm:
                return f"Bearer {await self._token(challenge)}"
        for challenge in challenges:
            if challenge.scheme == "basic":
                if self._credentials is None:
                    raise RegistryAuthError(self._what("credentials required (Basic auth)"))
                return self._basic()
        raise RegistryAuthError(self._what(f"401 without a usable challenge: {header!r}"))

    def _basic(self) -> str:
        assert self._credentials is not None
        login = f"{self._credentials.username}:{self._credentials.password.reveal()}"
        return "Basic " + base64.b64encode(login.encode()).decode()

    async def _token(self, challenge: Challenge) -> str:
        """A bearer token from the challenge's realm (OAuth2 POST first, as containerd does)."""
        scope = challenge.parameters.get("scope") or f"repository:{self._reference.path}:pull"
        service = challenge.parameters.get("service", "")
        realm = challenge.realm
        status = 0
        if self._credentials is not None and self._credentials.username:
            form = {
                "grant_type": "password",
                "username": self._credentials.username,
                "password": self._credentials.password.reveal(),
                "service": service,
                "scope": scope,
                "client_id": TOKEN_CLIENT_ID,
            }
            status, answer = await self._token_request(
                "POST",
                realm,
                {"Content-Type": "application/x-www-form-urlencoded"},
                urlencode(form).encode(),
            )
            if status == 200:
                return self._token_from(answer, realm)
            if status not in TOKEN_POST_FALLBACK:
                raise RegistryAuthError(self._what(f"token endpoint {realm} answered {status}"))
        query = urlencode({"service": service, "scope": scope})
        separator = "&" if "?" in realm else "?"
        headers = {} if self._credentials is None else {"Authorization": self._basic()}
        status, answer = await self._token_request("GET", f"{realm}{separator}{query}", headers)
        if status == 200:
            return self._token_from(answer, realm)
        who = "anonymous" if self._credentials is None else f"user {self._credentials.username!r}"
        raise RegistryAuthError(self._what(f"token endpoint refused {who} ({status})"))

    async def _token_request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        try:
            async for attempt in self._options.retry.retrying():
                with attempt:
                    async with self._http.stream(method, url, headers=headers, body=body) as r:
                        answer = await r.read(limit=oci.MAX_MANIFEST_BYTES)
                        if r.status == 429 or r.status >= 500:
                            raise RegistryUnavailable(self._what(f"token endpoint {r.status}"))
                        return r.status, answer
        except OSError as error:
            raise RegistryUnavailable(
                self._what(f"cannot reach token endpoint {url}: {error}")
            ) from error
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    def _token_from(self, answer: bytes, realm: str) -> str:
        try:
            document = json.loads(answer)
            token = document.get("token") or document.get("access_token")
        except (json.JSONDecodeError, AttributeError) as error:
            raise RegistryAuthError(self._what(f"token endpoint {realm}: bad answer")) from error
        if not isinstance(token, str) or not token:
            raise RegistryAuthError(self._what(f"token endpoint {realm}: no token in answer"))
        return token
