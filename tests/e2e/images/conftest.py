"""Fixtures for the image tests: an ImageService on the test's namespace, call counting.

The service's client is the product's; every check of the result goes through ``ctr``.
At the end each test's images are deleted (synchronously, so GC frees their blobs and
snapshots) before the namespace fixture's leak check runs.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.images.registry_options import RegistryOptions, RetryPolicy
from reconciler.drivers.containerd.images.store import ImageService, ImageSettings
from tests.support.containerd import NamespacedContainerd

FAST_RETRY = RetryPolicy(attempts=2, first_wait=0.01, max_wait=0.05)


class CallCounter:
    """Counts calls of chosen client methods by wrapping them on one client instance."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    def wrap(self, owner: Any, method: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, method)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[label] += 1
            return await original(*args, **kwargs)

        setattr(owner, method, counted)

    def reset(self) -> None:
        self.calls.clear()


MUTATIONS = (
    ("content", "write", "Content.Write"),
    ("content", "update_labels", "Content.Update"),
    ("snapshots", "prepare", "Snapshots.Prepare"),
    ("snapshots", "commit", "Snapshots.Commit"),
    ("diff", "apply", "Diff.Apply"),
    ("leases", "create", "Leases.Create"),
    ("leases", "add_resource", "Leases.AddResource"),
    ("images", "create", "Images.Create"),
    ("images", "update", "Images.Update"),
)


@pytest_asyncio.fixture
async def client(containerd: NamespacedContainerd) -> AsyncIterator[ContainerdClient]:
    async with ContainerdClient(address=containerd.address, namespace=containerd.namespace) as c:
        await c.wait_until_ready(timeout=10)
        yield c
        for image in await c.images.list():
            await c.images.delete(image.name, sync=True)


@pytest.fixture
def counter(client: ContainerdClient) -> CallCounter:
    counting = CallCounter()
    for service, method, label in MUTATIONS:
        counting.wrap(getattr(client, service), method, label)
    return counting


@pytest.fixture
def docker_config(tmp_path: Path) -> Path:
    """A config.json path in an empty temporary DOCKER_CONFIG (absent until written)."""
    return tmp_path / "docker-config" / "config.json"


@pytest.fixture
def images(client: ContainerdClient, docker_config: Path) -> ImageService:
    settings = ImageSettings(
        docker_config=docker_config, registry=RegistryOptions(retry=FAST_RETRY)
    )
    return ImageService(client, settings=settings)
