"""The HTTP client a pull reaches registries with: one httpx ``AsyncClient`` per pull.

Why one client: manifests, blobs, the token endpoint and the storage host blobs are
redirected to share its connection pool, so a pull opens a connection per host and
concurrent layer downloads, not one per request.

Why these settings:
* Proxies come from the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY`` and
  ``NO_PROXY``, read by httpx's ``trust_env``), as containerd's resolver reads them; but a
  loopback host is always reached directly, as Go's resolver does whatever ``NO_PROXY``
  says: a proxy elsewhere cannot reach this machine's ``127.0.0.1``.
* Certificates are checked against the system's CA store (what containerd trusts, and
  where ``update-ca-certificates`` puts a private CA), not certifi's bundle.
* Redirects are followed, at most ``MAX_REDIRECTS``; httpx drops ``Authorization`` when
  one leaves the registry's origin, so its token never reaches the storage host.
* ``Accept-Encoding: identity``: digests and the offsets a resumed blob starts from are
  over the bytes as stored, not as a server chose to compress them.
* The timeout bounds each step (connect, each read, each write), not a whole request: a
  large layer takes what it takes while its bytes keep coming.
"""

from __future__ import annotations

from typing import Final

import httpx

from reconciler.system_trust import system_trust

from .reference import host_without_port, is_loopback

MAX_REDIRECTS: Final = 5
STEP_TIMEOUT_SECONDS: Final = 60.0
USER_AGENT: Final = "reconciler/0.1"
_LOOPBACK_HOSTS: Final = ("localhost", "127.0.0.1", "[::1]")


class BodyTooLarge(ValueError):
    """A response body past what its reader holds in memory (a manifest, a token)."""


def pull_client(
    registry_host: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A client for one pull from ``registry_host`` (``host[:port]``); close it after.

    ``transport`` replaces the network (tests pass an ``httpx.MockTransport``)."""
    direct = set(_LOOPBACK_HOSTS)
    if is_loopback(registry_host):
        direct.add(host_without_port(registry_host))  # 127.0.0.2 too, as Go's resolver
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        verify=system_trust(),
        timeout=httpx.Timeout(STEP_TIMEOUT_SECONDS),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=True,
        mounts={f"all://{host}": None for host in sorted(direct)},
        transport=transport,
    )


async def read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed ``response``; past ``limit`` bytes it is ``BodyTooLarge``,
    read no further."""
    if response.request.method == "HEAD":
        return b""  # its Content-Length is the size of what a GET would answer
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"answer of {declared} bytes is larger than {limit}")
    parts: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > limit:
            raise BodyTooLarge(f"answer is larger than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
