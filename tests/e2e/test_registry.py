"""The local registries accept our image from skopeo, serve it over HTTP and to containerd."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import BuiltImage, ImageSpec, MediaTypes, build_image, write_layout
from tests.support.registry import Registry, http_get
from tests.support.token_server import TokenServer

MANIFEST_TYPES = ", ".join(
    media_type for types in MediaTypes for media_type in (types.manifest, types.index)
)
WRONG_LOGIN = "Basic " + base64.b64encode(b"alice:nope").decode()


def manifest_url(registry: Registry, repository: str, reference: str) -> str:
    return f"{registry.url}/v2/{repository}/manifests/{reference}"


def bearer_challenge(header: str) -> dict[str, str]:
    """``Bearer realm="..",service="..",scope=".."`` -> its parameters."""
    scheme, _, parameters = header.partition(" ")
    assert scheme == "Bearer", header
    return dict(re.findall(r'(\w+)="([^"]*)"', parameters))


def test_the_open_registry_serves_the_pushed_oci_manifest_anonymously(
    registry: Registry, busybox_layout: Path, busybox_image: BuiltImage
) -> None:
    registry.push(busybox_layout, busybox_image.tag, "open/busybox:1")

    reply = http_get(manifest_url(registry, "open/busybox", "1"), {"Accept": MANIFEST_TYPES})

    assert reply.status == 200
    assert reply.headers["docker-content-digest"] == busybox_image.manifest.digest
    assert reply.headers["content-type"] == MediaTypes.OCI.manifest


def test_a_docker_format_push_is_served_as_a_docker_schema_2_manifest(
    registry: Registry, busybox_layout: Path, busybox_image: BuiltImage
) -> None:
    registry.push(busybox_layout, busybox_image.tag, "open/bbdocker:1", docker_format=True)

    reply = http_get(manifest_url(registry, "open/bbdocker", "1"), {"Accept": MANIFEST_TYPES})

    assert reply.status == 200
    manifest = json.loads(reply.body)
    assert manifest["mediaType"] == MediaTypes.DOCKER.manifest
    assert manifest["config"]["mediaType"] == MediaTypes.DOCKER.config
    assert [layer["mediaType"] for layer in manifest["layers"]] == [MediaTypes.DOCKER.layer]


def test_a_multi_platform_index_is_pushed_with_every_platform(
    registry: Registry, tmp_path: Path
) -> None:
    image = build_image(ImageSpec(name="bbmulti:1", multi_platform=True))
    layout = write_layout(image, tmp_path / "multi")
    registry.push(layout, image.tag, "open/bbmulti:1", all_platforms=True)

    reply = http_get(manifest_url(registry, "open/bbmulti", "1"), {"Accept": MANIFEST_TYPES})

    assert reply.status == 200
    assert reply.headers["docker-content-digest"] == image.target.digest
    platforms = [entry["platform"]["architecture"] for entry in json.loads(reply.body)["manifests"]]
    assert sorted(platforms) == ["amd64", "arm64"]


def test_the_token_registry_challenges_then_serves_with_a_bearer_token(
    token_registry: Registry, busybox_layout: Path, busybox_image: BuiltImage
) -> None:
    assert token_registry.auth is not None
    token_registry.push(busybox_layout, busybox_image.tag, "private/busybox:1")
    url = manifest_url(token_registry, "private/busybox", "1")

    challenge = http_get(url, {"Accept": MANIFEST_TYPES})
    assert challenge.status == 401
    parameters = bearer_challenge(challenge.headers["www-authenticate"])
    assert parameters["realm"] == token_registry.auth.realm
    assert parameters["scope"] == "repository:private/busybox:pull"

    login = f"{token_registry.auth.username}:{token_registry.auth.password}".encode()
    query = urlencode({"service": parameters["service"], "scope": parameters["scope"]})
    answer = http_get(
        f"{parameters['realm']}?{query}",
        {"Authorization": "Basic " + base64.b64encode(login).decode()},
    )
    assert answer.status == 200
    token = json.loads(answer.body)["token"]

    reply = http_get(url, {"Accept": MANIFEST_TYPES, "Authorization": f"Bearer {token}"})
    assert reply.status == 200
    assert reply.headers["docker-content-digest"] == busybox_image.manifest.digest


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param({}, id="anonymous"),
        pytest.param({"Authorization": WRONG_LOGIN}, id="wrong-password"),
    ],
)
def test_the_token_server_refuses_requests_without_the_right_password(
    token_server: TokenServer, authorization: dict[str, str]
) -> None:
    query = urlencode({"service": "reconciler-test-registry", "scope": "repository:x:pull"})

    reply = http_get(f"{token_server.realm}?{query}", authorization)

    assert reply.status == 401


@pytest.mark.parametrize("registry_name", ["registry", "token_registry"])
def test_containerd_pulls_and_runs_the_image_from_either_registry(
    containerd: NamespacedContainerd,
    busybox_layout: Path,
    busybox_image: BuiltImage,
    registry_name: str,
    request: pytest.FixtureRequest,
) -> None:
    serving: Registry = request.getfixturevalue(registry_name)
    reference = serving.push(busybox_layout, busybox_image.tag, "pulled/busybox:1")
    login = (
        []
        if serving.auth is None
        else ["--user", f"{serving.auth.username}:{serving.auth.password}"]
    )

    containerd.ctr("images", "pull", "--plain-http", *login, reference)
    try:
        output = containerd.ctr("run", "--rm", reference, "pulled", "echo", "hello")
    finally:
        containerd.ctr("images", "rm", "--sync", reference)

    assert output == "hello\n"
