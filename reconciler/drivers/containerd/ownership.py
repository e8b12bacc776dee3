"""What is ours in containerd, and the only things the lifecycle touches.

The reconciler shares its namespace with whoever else uses it. A container or snapshot
without our labels is never changed: finding one where ours should be is a `Conflict`.
And every removal treats what is already gone as success, so a step interrupted by a
crash can simply run again.
"""

from __future__ import annotations

from collections.abc import Awaitable

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.types import Container
from reconciler.errors import Conflict, NotFound
from reconciler.model import labels


async def container_if_ours(client: ContainerdClient, container_id: str) -> Container | None:
    """The container, None when there is none; `Conflict` when it is not ours."""
    try:
        container = await client.containers.get(container_id)
    except NotFound:
        return None
    if not labels.is_ours(container.labels):
        raise Conflict(
            f"container '{container_id}' in namespace '{client.namespace}' exists and is "
            "not the reconciler's; it is left alone"
        )
    return container


async def require_ours(client: ContainerdClient, container_id: str) -> Container:
    """The container; `NotFound` when there is none, `Conflict` when it is not ours."""
    container = await container_if_ours(client, container_id)
    if container is None:
        raise NotFound(f"container '{container_id}' does not exist")
    return container


async def remove_snapshot_if_ours(
    client: ContainerdClient, key: str, *, required: bool = False
) -> None:
    """Remove the snapshot when it is ours; one that is not is left alone, or with
    `required` (its key is needed) is a `Conflict`."""
    try:
        info = await client.snapshots.stat(key)
    except NotFound:
        return
    if not labels.is_ours(info.labels):
        if required:
            raise Conflict(f"snapshot '{key}' exists and is not the reconciler's")
        return
    await tolerate_not_found(client.snapshots.remove(key))


async def tolerate_not_found(call: Awaitable[object]) -> None:
    """Await `call`; what it was to remove or stop being gone already is success."""
    try:
        await call
    except NotFound:
        return
