"""containerd's event stream, as the controllers' runtime events of one project.

Only what the engine acts on: a container's main process exiting (not an exec's), the
kernel killing a task for memory, a container deleted, and a resubscription after the
stream broke (whatever happened meanwhile is unknown: resync).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from reconciler.clock import Clock
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.events import ContainerDelete, TaskExit, TaskOOM
from reconciler.drivers.containerd.watch import Resubscribed, watch_events
from reconciler.model.events import (
    Resynced,
    RuntimeEvent,
    UnitDeleted,
    UnitExited,
    UnitOutOfMemory,
)


async def unit_events(
    client: ContainerdClient, *, prefix: str, clock: Clock
) -> AsyncIterator[RuntimeEvent]:
    """The events of containers whose id starts with `prefix` (`<project>-`); the waits
    between resubscriptions are on `clock`."""
    async for item in watch_events(client, sleep=clock.sleep):
        match item:
            case Resubscribed():
                yield Resynced()
            case _ if not _concerns(item.payload, prefix):
                continue
            case _:
                match item.payload:
                    case TaskExit(container_id=cid, id=process_id, exit_status=code) if (
                        cid == process_id
                    ):
                        yield UnitExited(unit_id=cid, exit_code=code)
                    case TaskOOM(container_id=cid):
                        yield UnitOutOfMemory(unit_id=cid)
                    case ContainerDelete(id=cid):
                        yield UnitDeleted(unit_id=cid)


def _concerns(payload: object, prefix: str) -> bool:
    match payload:
        case TaskExit(container_id=cid) | TaskOOM(container_id=cid) | ContainerDelete(id=cid):
            return cid.startswith(prefix)
    return False
