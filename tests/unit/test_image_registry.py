"""The registry client as a registry sees it: what it asks, what it sends, what it makes
of the answers. A scripted registry behind ``httpx.MockTransport`` answers; the e2e tests
do the same against Debian's docker-registry and a token server."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import pytest

from reconciler.drivers.containerd.images import oci
from reconciler.drivers.containerd.images.auth import Credentials
from reconciler.drivers.containerd.images.pull_client import pull_client
from reconciler.drivers.containerd.images.reference import parse_reference
from reconciler.drivers.containerd.images.registry import Registry
from reconciler.drivers.containerd.images.registry_options import RegistryOptions, RetryPolicy
from reconciler.drivers.containerd.types import Descriptor
from reconciler.errors import (
    ImageDigestMismatch,
    ImageError,
    ImageNotFound,
    RegistryAuthError,
    RegistryUnavailable,
)
from reconciler.model.secret import Secret

pytestmark = pytest.mark.asyncio

NO_WAIT = RegistryOptions(retry=RetryPolicy(attempts=3, first_wait=0, max_wait=0))
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST}).encode()
MANIFEST_DIGEST = oci.digest_of(MANIFEST)
BLOB = bytes(range(256)) * 64
BLOB_DESCRIPTOR = Descriptor(
    media_type="application/vnd.oci.image.layer.v1.tar+gzip",
    digest=oci.digest_of(BLOB),
    size=len(BLOB),
)
TOKEN = "t0ken"
ALICE = Credentials(username="alice", password=Secret("wonderland"))

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass(kw_only=True)
class ScriptedRegistry:
    """Serves MANIFEST under any tag and BLOB; each flag is one thing real ones do."""

    head_digest: bool = True
    bearer: bool = False
    basic: bool = False
    token_post_status: int = 200
    blobs_redirect_to: str = ""
    honour_range: bool = True
    failures: list[int] = field(default_factory=list)  # statuses for the first requests
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A copy: the client sends the same request again, its Authorization added.
        self.seen.append(
            httpx.Request(
                request.method, request.url, headers=request.headers.copy(), content=request.content
            )
        )
        if self.failures:
            return httpx.Response(self.failures.pop(0), text="try later\nplease")
        if request.url.path == "/token":
            return self._token(request)
        challenge = self._challenge(request)
        if challenge is not None:
            return challenge
        if "/manifests/" in request.url.path:
            return self._manifest(request)
        if "/blobs/" in request.url.path:
            return self._blob(request)
        return httpx.Response(404)

    def _challenge(self, request: httpx.Request) -> httpx.Response | None:
        """A 401 for a request to the registry without the login it wants; else None."""
        if request.url.host not in {"registry.test", "127.0.0.1"}:
            return None
        authorization = request.headers.get("authorization", "")
        if self.bearer and authorization != f"Bearer {TOKEN}":
            challenge = (
                'Bearer realm="https://auth.test/token",service="registry.test",'
                'scope="repository:team/app:pull"'
            )
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        if self.basic and authorization != basic("alice", "wonderland"):
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        return None

    def _manifest(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/missing"):
            return httpx.Response(404)
        headers = {"Content-Type": oci.OCI_MANIFEST}
        if self.head_digest:
            headers["Docker-Content-Digest"] = MANIFEST_DIGEST
        return httpx.Response(200, headers=headers, content=MANIFEST)

    def _blob(self, request: httpx.Request) -> httpx.Response:
        if self.blobs_redirect_to and request.url.host != self.blobs_redirect_to:
            location = f"https://{self.blobs_redirect_to}/storage{request.url.path}"
            return httpx.Response(307, headers={"Location": location})
        wanted = request.headers.get("range", "")
        if wanted and self.honour_range:
            start = int(wanted.removeprefix("bytes=").removesuffix("-"))
            return httpx.Response(206, content=BLOB[start:])
        return httpx.Response(200, content=BLOB)

    def _token(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            if self.token_post_status != 200:
                return httpx.Response(self.token_post_status)
            form = parse_qs(request.content.decode())
            if form["password"] != ["wonderland"]:
                return httpx.Response(401)
        elif "authorization" in request.headers and request.headers["authorization"] != basic(
            "alice", "wonderland"
        ):
            return httpx.Response(401)
        return httpx.Response(200, json={"token": TOKEN})

    def to(self, host: str, path: str = "") -> list[httpx.Request]:
        return [r for r in self.seen if r.url.host == host and path in r.url.path]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def registry_for(
    scripted: Handler,
    reference: str = "registry.test/team/app:1",
    *,
    credentials: Credentials | None = None,
    options: RegistryOptions = NO_WAIT,
) -> tuple[Registry, httpx.AsyncClient]:
    parsed = parse_reference(reference)
    http = pull_client(parsed.api_host, transport=httpx.MockTransport(scripted))
    return Registry(parsed, http=http, credentials=credentials, options=options), http


async def read_blob(registry: Registry, offset: int = 0) -> bytes:
    chunks: AsyncIterator[bytes] = registry.open_blob(BLOB_DESCRIPTOR)(offset)
    return b"".join([chunk async for chunk in chunks])


async def test_a_tag_resolves_by_head_to_the_descriptor_the_registry_names() -> None:
    scripted = ScriptedRegistry()
    registry, http = registry_for(scripted)
    async with http:
        descriptor = await registry.resolve()

    assert descriptor == Descriptor(
        media_type=oci.OCI_MANIFEST, digest=MANIFEST_DIGEST, size=len(MANIFEST)
    )
    (head,) = scripted.seen
    assert (head.method, str(head.url)) == ("HEAD", "https://registry.test/v2/team/app/manifests/1")
    assert head.headers["accept"] == ", ".join(oci.MANIFEST_ACCEPT)
    assert head.headers["accept-encoding"] == "identity"


async def test_without_a_digest_header_the_manifest_is_fetched_and_hashed() -> None:
    scripted = ScriptedRegistry(head_digest=False)
    registry, http = registry_for(scripted)
    async with http:
        descriptor = await registry.resolve()

    assert descriptor.digest == MANIFEST_DIGEST
    assert [r.method for r in scripted.seen] == ["HEAD", "GET"]


@pytest.mark.parametrize(
    ("reference", "options", "scheme"),
    [
        ("127.0.0.1:5000/team/app:1", NO_WAIT, "http"),
        ("localhost:5000/team/app:1", NO_WAIT, "http"),
        ("registry.test/team/app:1", NO_WAIT, "https"),
        (
            "registry.test/team/app:1",
            RegistryOptions(insecure_hosts=frozenset({"registry.test"})),
            "http",
        ),
    ],
)
async def test_plain_http_is_for_loopback_and_hosts_marked_insecure_only(
    reference: str, options: RegistryOptions, scheme: str
) -> None:
    scripted = ScriptedRegistry()
    registry, http = registry_for(scripted, reference, options=options)
    async with http:
        await registry.resolve()

    assert scripted.seen[0].url.scheme == scheme


async def test_a_bearer_challenge_is_answered_once_and_the_token_kept_for_the_pull() -> None:
    scripted = ScriptedRegistry(bearer=True)
    registry, http = registry_for(scripted)
    async with http:
        target = await registry.resolve()
        await registry.read(target)
        assert await read_blob(registry) == BLOB

    (token,) = scripted.to("auth.test")
    assert token.method == "GET"
    assert parse_qs(token.url.query.decode()) == {
        "service": ["registry.test"],
        "scope": ["repository:team/app:pull"],
    }
    assert "authorization" not in token.headers
    registry_requests = scripted.to("registry.test")
    assert [r.headers.get("authorization") for r in registry_requests] == [
        None,
        f"Bearer {TOKEN}",
        f"Bearer {TOKEN}",
        f"Bearer {TOKEN}",
    ]


async def test_a_login_goes_to_the_token_endpoint_as_an_oauth2_form_first() -> None:
    scripted = ScriptedRegistry(bearer=True)
    registry, http = registry_for(scripted, credentials=ALICE)
    async with http:
        await registry.resolve()

    (token,) = scripted.to("auth.test")
    assert token.method == "POST"
    assert parse_qs(token.content.decode()) == {
        "grant_type": ["password"],
        "username": ["alice"],
        "password": ["wonderland"],
        "service": ["registry.test"],
        "scope": ["repository:team/app:pull"],
        "client_id": ["reconciler"],
    }


async def test_a_token_endpoint_without_oauth2_is_asked_by_get_with_basic_auth() -> None:
    scripted = ScriptedRegistry(bearer=True, token_post_status=404)
    registry, http = registry_for(scripted, credentials=ALICE)
    async with http:
        await registry.resolve()

    post, get = scripted.to("auth.test")
    assert (post.method, get.method) == ("POST", "GET")
    assert get.headers["authorization"] == basic("alice", "wonderland")


async def test_a_refused_login_is_an_auth_error_that_keeps_the_password_out() -> None:
    scripted = ScriptedRegistry(bearer=True, token_post_status=404)
    wrong = Credentials(username="alice", password=Secret("not-the-password"))
    registry, http = registry_for(scripted, credentials=wrong)
    async with http:
        with pytest.raises(RegistryAuthError) as raised:
            await registry.resolve()

    message = str(raised.value)
    assert "token endpoint refused user 'alice' (401)" in message
    assert "not-the-password" not in message
    assert "registry.test/team/app:1" in message


async def test_basic_auth_sends_the_login_and_without_one_is_an_auth_error() -> None:
    scripted = ScriptedRegistry(basic=True)
    registry, http = registry_for(scripted, credentials=ALICE)
    async with http:
        await registry.resolve()
    assert scripted.seen[-1].headers["authorization"] == basic("alice", "wonderland")

    anonymous, http = registry_for(ScriptedRegistry(basic=True))
    async with http:
        with pytest.raises(RegistryAuthError, match="credentials required"):
            await anonymous.resolve()


async def test_a_redirected_blob_keeps_its_range_but_not_the_registrys_token() -> None:
    scripted = ScriptedRegistry(bearer=True, blobs_redirect_to="storage.test")
    registry, http = registry_for(scripted)
    async with http:
        await registry.resolve()
        assert await read_blob(registry, offset=100) == BLOB[100:]

    (stored,) = scripted.to("storage.test")
    assert "authorization" not in stored.headers
    assert stored.headers["range"] == "bytes=100-"
    blob_asks = scripted.to("registry.test", "/blobs/")
    assert [r.headers["authorization"] for r in blob_asks] == [f"Bearer {TOKEN}"]


async def test_a_resumed_blob_from_a_server_that_ignores_range_skips_what_was_written() -> None:
    registry, http = registry_for(ScriptedRegistry(honour_range=False))
    async with http:
        assert await read_blob(registry, offset=1000) == BLOB[1000:]


async def test_endless_redirects_are_an_image_error_after_five() -> None:
    def redirecting(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": f"{request.url}x"})

    registry, http = registry_for(redirecting)
    async with http:
        with pytest.raises(ImageError, match="too many redirects"):
            await registry.resolve()


async def test_a_missing_tag_is_image_not_found_naming_the_image_and_registry() -> None:
    registry, http = registry_for(ScriptedRegistry(), "registry.test/team/app:missing")
    async with http:
        with pytest.raises(ImageNotFound) as raised:
            await registry.resolve()

    assert str(raised.value) == (
        "image registry.test/team/app:missing: manifest not found (404) (registry registry.test)"
    )


async def test_server_errors_are_retried_and_then_one_line_of_registry_unavailable() -> None:
    recovering = ScriptedRegistry(failures=[503, 429])
    registry, http = registry_for(recovering)
    async with http:
        assert (await registry.resolve()).digest == MANIFEST_DIGEST

    failing = ScriptedRegistry(failures=[503] * 3)
    registry, http = registry_for(failing)
    async with http:
        with pytest.raises(RegistryUnavailable) as raised:
            await registry.resolve()
    assert "manifest: HTTP 503 try later please" in str(raised.value)


async def test_a_refused_connection_is_registry_unavailable_saying_why_and_where() -> None:
    def refusing(request: httpx.Request) -> httpx.Response:
        try:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5000)")
        except ConnectionRefusedError as error:
            raise httpx.ConnectError("All connection attempts failed", request=request) from error

    registry, http = registry_for(refusing, "127.0.0.1:5000/team/app:1")
    async with http:
        with pytest.raises(RegistryUnavailable) as raised:
            await registry.resolve()

    assert str(raised.value) == (
        "image 127.0.0.1:5000/team/app:1: cannot reach http://127.0.0.1:5000: "
        "connection refused (registry 127.0.0.1:5000)"
    )


async def test_a_manifest_that_misses_its_digest_is_refused_before_it_is_parsed() -> None:
    registry, http = registry_for(ScriptedRegistry())
    tampered = Descriptor(
        media_type=oci.OCI_MANIFEST, digest=oci.digest_of(b"other"), size=len(MANIFEST)
    )
    async with http:
        with pytest.raises(ImageDigestMismatch):
            await registry.read(tampered)


async def test_an_answer_past_the_manifest_limit_is_an_image_error() -> None:
    huge = b"x" * (oci.MAX_MANIFEST_BYTES + 1)

    def oversized(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=huge, headers={"Content-Type": oci.OCI_MANIFEST})

    registry, http = registry_for(oversized)
    async with http:
        with pytest.raises(ImageError, match="larger than"):
            await registry.resolve()
