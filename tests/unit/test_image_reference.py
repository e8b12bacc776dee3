"""Image references normalize like docker and ctr, and say where to fetch from."""

from __future__ import annotations

import pytest

from reconciler.drivers.containerd.images.reference import is_loopback, parse_reference
from reconciler.errors import ImageError

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1", "docker.io/library/busybox:1"),
        ("library/busybox:1", "docker.io/library/busybox:1"),
        ("docker.io/busybox:1", "docker.io/library/busybox:1"),
        ("team/app:2.0", "docker.io/team/app:2.0"),
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/app:1", "localhost:5000/app:1"),
        ("127.0.0.1:5000/a/b/c:v1", "127.0.0.1:5000/a/b/c:v1"),
        ("[::1]:5000/app:1", "[::1]:5000/app:1"),
        ("ghcr.io/org/tool", "ghcr.io/org/tool:latest"),
        (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}"),
        (f"busybox:1@{DIGEST}", f"docker.io/library/busybox:1@{DIGEST}"),
    ],
)
def test_references_normalize_to_the_name_ctr_lists(text: str, name: str) -> None:
    assert parse_reference(text).name == name


def test_docker_hub_is_served_by_registry_1_and_others_by_their_own_host() -> None:
    assert parse_reference("busybox").api_host == "registry-1.docker.io"
    assert parse_reference("quay.io/x/y").api_host == "quay.io"
    assert parse_reference("127.0.0.1:5000/x").api_host == "127.0.0.1:5000"


def test_a_digest_is_what_a_pinned_reference_asks_the_registry_for() -> None:
    reference = parse_reference(f"example.com/app:1@{DIGEST}")

    assert reference.object == DIGEST
    assert reference.path == "app"
    assert parse_reference("example.com/app:1").object == "1"


def test_a_port_is_not_mistaken_for_a_tag() -> None:
    reference = parse_reference("localhost:5000/app")

    assert (reference.domain, reference.path, reference.tag) == ("localhost:5000", "app", "latest")


@pytest.mark.parametrize(
    "text",
    ["", "Busybox:1", "busybox:", "busybox@sha256:xyz", "a//b", "busybox:-bad", "/abs"],
)
def test_malformed_references_are_image_errors_naming_them(text: str) -> None:
    with pytest.raises(ImageError, match="image reference"):
        parse_reference(text)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1:5005", True),
        ("127.1.2.3", True),
        ("[::1]:5000", True),
        ("registry-1.docker.io", False),
        ("10.0.0.1:5000", False),
    ],
)
def test_only_loopback_hosts_count_as_local_registries(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
