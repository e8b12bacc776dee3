"""Answering a registry's 401: an httpx ``Auth`` that turns challenges into a login.

Why this exists: a registry answers an anonymous request with ``401`` and a
``WWW-Authenticate`` challenge (docs/containerd.md, "Images"). For ``Bearer`` we fetch a token from
the challenge's realm (OAuth2 POST with the login first, as containerd does, then GET
with Basic auth or anonymously); for ``Basic`` we send the login. The header we got is
kept for the rest of the pull and sent up front, so a pull asks for a token once.

As an httpx ``Auth`` it wraps the whole exchange, redirects included: it adds the header
to the request for the registry only (httpx drops it on a redirect to another origin)
and answers a 401 only when the registry itself sent it, once per request; a second 401
goes back to the caller, which says the access was refused.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator, Callable, Generator, Mapping

import httpx

from reconciler.connection_errors import why_connection_failed
from reconciler.errors import RegistryAuthError, RegistryUnavailable

from . import oci
from .auth import Challenge, Credentials, parse_challenges
from .pull_client import BodyTooLarge, read_at_most
from .reference import ImageReference
from .registry_options import RetryPolicy

TOKEN_CLIENT_ID = "reconciler"
# A token endpoint that refuses the OAuth2 form may still hand tokens out by GET.
TOKEN_POST_FALLBACK = frozenset({400, 401, 404, 405})


def same_origin(one: httpx.URL, other: httpx.URL) -> bool:
    return (one.scheme, one.host, one.port) == (other.scheme, other.host, other.port)


class RegistryAuth(httpx.Auth):
    """The login for one repository during one pull; ``what`` words its errors."""

    def __init__(
        self,
        reference: ImageReference,
        *,
        http: httpx.AsyncClient,
        credentials: Credentials | None,
        retry: RetryPolicy,
        what: Callable[[str], str],
    ) -> None:
        self._reference = reference
        self._http = http
        self._credentials = credentials
        self._retry = retry
        self._what = what
        self._authorization: str | None = None

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError("registry auth fetches tokens asynchronously")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._authorization:
            request.headers["Authorization"] = self._authorization
        response = yield request
        if response.status_code != 401 or not same_origin(response.url, request.url):
            return
        await response.aread()  # the connection goes back to the pool for the retry
        self._authorization = await self._authorize(response.headers.get("www-authenticate", ""))
        request.headers["Authorization"] = self._authorization
        yield request

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
        if self._credentials is not None and self._credentials.username:
            form = {
                "grant_type": "password",
                "username": self._credentials.username,
                "password": self._credentials.password.reveal(),
                "service": service,
                "scope": scope,
                "client_id": TOKEN_CLIENT_ID,
            }
            status, answer = await self._token_request("POST", realm, data=form)
            if status == 200:
                return self._token_from(answer, realm)
            if status not in TOKEN_POST_FALLBACK:
                raise RegistryAuthError(self._what(f"token endpoint {realm} answered {status}"))
        headers = {} if self._credentials is None else {"Authorization": self._basic()}
        status, answer = await self._token_request(
            "GET", realm, params={"service": service, "scope": scope}, headers=headers
        )
        if status == 200:
            return self._token_from(answer, realm)
        who = "anonymous" if self._credentials is None else f"user {self._credentials.username!r}"
        raise RegistryAuthError(self._what(f"token endpoint refused {who} ({status})"))

    async def _token_request(
        self,
        method: str,
        realm: str,
        *,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Status and body from the token endpoint; 429, 5xx and lost connections retried."""
        try:
            async for attempt in self._retry.retrying():
                with attempt:
                    return await self._token_answer(method, realm, data, params, headers)
        except BodyTooLarge as error:
            raise RegistryAuthError(self._what(f"token endpoint {realm}: {error}")) from error
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    async def _token_answer(
        self,
        method: str,
        realm: str,
        data: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[int, bytes]:
        try:
            async with self._http.stream(
                method, realm, data=data, params=params, headers=headers
            ) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    raise RegistryUnavailable(self._what(f"token endpoint {realm}: HTTP {status}"))
                return status, await read_at_most(response, oci.MAX_MANIFEST_BYTES)
        except httpx.RequestError as error:
            reason = why_connection_failed(error)
            raise RegistryUnavailable(
                self._what(f"cannot reach token endpoint {realm}: {reason}")
            ) from error

    def _token_from(self, answer: bytes, realm: str) -> str:
        try:
            document = json.loads(answer)
            token = document.get("token") or document.get("access_token")
        except (json.JSONDecodeError, AttributeError) as error:
            raise RegistryAuthError(self._what(f"token endpoint {realm}: bad answer")) from error
        if not isinstance(token, str) or not token:
            raise RegistryAuthError(self._what(f"token endpoint {realm}: no token in answer"))
        return token
