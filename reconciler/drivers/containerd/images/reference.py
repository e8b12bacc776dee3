"""Image references: ``busybox:1`` → ``docker.io/library/busybox:1``, and where to fetch it.

Why this exists: the image record's name, the registry host to dial, the repository path
in ``/v2/<repo>/...`` and the manifest to ask for all derive from one string, and must
agree with what docker and ``ctr`` do (docs/containerd.md, "Images"): the first path component is a
host only if it has a ``.`` or ``:``, is ``localhost`` or a bracketed IPv6 address;
``docker.io`` is served by ``registry-1.docker.io`` and single-component names there get
``library/``. Parsing is pure; a bad reference is an ``ImageError`` naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler.errors import ImageError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
DEFAULT_TAG = "latest"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}")
_DOMAIN = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]+)?"
)
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


@dataclass(frozen=True, kw_only=True)
class ImageReference:
    """A parsed, normalized reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def repository(self) -> str:
        """``docker.io/library/busybox``: the name without tag or digest."""
        return f"{self.domain}/{self.path}"

    @property
    def name(self) -> str:
        """The canonical name containerd's image record gets (``ctr images ls`` shows it)."""
        name = self.repository
        if self.tag:
            name += f":{self.tag}"
        if self.digest:
            name += f"@{self.digest}"
        return name

    @property
    def api_host(self) -> str:
        """The ``host[:port]`` that serves the distribution API for this domain."""
        return DOCKER_HUB_API_HOST if self.domain == DOCKER_HUB else self.domain

    @property
    def object(self) -> str:
        """What to put after ``/manifests/``: the digest if pinned, else the tag."""
        return self.digest or self.tag

    def __str__(self) -> str:
        return self.name


def host_without_port(host: str) -> str:
    """``127.0.0.1:5000`` → ``127.0.0.1``; ``[::1]:5000`` → ``[::1]``."""
    if host.startswith("["):
        return host[: host.index("]") + 1]
    return host.partition(":")[0]


def is_loopback(host: str) -> bool:
    """A registry on this machine, which (like the Go resolver) we reach over plain HTTP."""
    bare = host_without_port(host)
    return bare in _LOOPBACK_HOSTS or bare.startswith("127.")


def parse_reference(text: str) -> ImageReference:
    """Parse and normalize ``text``; raises ``ImageError`` when it is not a reference."""
    remainder, at, digest = text.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise ImageError(f"image reference {text!r}: invalid digest {digest!r}")
    tag = ""
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise ImageError(f"image reference {text!r}: invalid tag {tag!r}")
    first, slash, rest = remainder.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        domain, path = first, rest
        if not _DOMAIN.fullmatch(domain):
            raise ImageError(f"image reference {text!r}: invalid registry host {domain!r}")
    else:
        domain, path = DOCKER_HUB, remainder
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not path or not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        raise ImageError(
            f"image reference {text!r}: invalid repository {path!r} "
            "(lowercase letters, digits and separators only)"
        )
    if not tag and not digest:
        tag = DEFAULT_TAG
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest)
