"""A container's life in containerd: create, start, exec, stop and remove, leak-free.

Every step is idempotent, so a reconciler killed between two steps can run the same
step again: creating what exists with our labels adopts it, removing what is gone is
success. Objects without our labels are never touched (a `Conflict` instead:
`ownership`).

This is the face the driver sees; the steps live by idea: `creation` (snapshot, volumes,
network attachment and record, under a lease), `task_control` (the task: start, stop,
exec, delete, and what a crashed containerd leaves of them). What stays here is the
order of removal and what a create hands its start:

- remove: stop, then delete the container, then remove its snapshot, then take it off
  its network, in that order; containerd itself would let a running container be
  deleted (docs/containerd.md, "Tasks").
- a container this lifecycle created and has not started yet needs no look-up on its
  first start (no task can exist, the record is ours, the mounts are known).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from reconciler.clock import Clock, SystemClock
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.creation import (
    ContainerCreator,
    ContainerRequest,
    project_network,
)
from reconciler.drivers.containerd.network.manager import ProjectNetworking
from reconciler.drivers.containerd.ownership import (
    container_if_ours,
    remove_snapshot_if_ours,
    require_ours,
    tolerate_not_found,
)
from reconciler.drivers.containerd.shim_groups import ShimSharing
from reconciler.drivers.containerd.task_control import TaskControl
from reconciler.drivers.containerd.types import Container, ExitStatus, Mount
from reconciler.model.desired import DesiredService


class ContainerLifecycle:
    def __init__(
        self,
        client: ContainerdClient,
        *,
        runtime_state: Path | None = None,
        clock: Clock | None = None,
        networking: ProjectNetworking | None = None,
        shims: ShimSharing = ShimSharing.PER_PROJECT,
    ) -> None:
        """`runtime_state` is containerd's own state dir, when known: it lets a stale task
        bundle that containerd itself failed to clean be removed (`task_control`).
        `networking` attaches containers to their project's network (bridge mode).
        `shims` is which containers share a shim; it applies to containers created from
        now on (a container keeps the shim its spec chose)."""
        self._client = client
        self._networking = networking
        self._creator = ContainerCreator(client, networking=networking, shims=shims)
        self._tasks = TaskControl(client, runtime_state=runtime_state, clock=clock or SystemClock())
        # Containers this lifecycle created and has not started yet, with their rootfs
        # mounts: their first start needs no look-up (no task can exist, the record is
        # ours, the mounts are known), three calls fewer per service on a converge.
        self._unstarted: dict[str, list[Mount]] = {}

    @property
    def namespace(self) -> str:
        return self._client.namespace

    async def create(self, request: ContainerRequest) -> Container:
        created = await self._creator.create(request)
        if created.rootfs is not None:
            self._unstarted[request.container_id] = created.rootfs
        return created.container

    async def start(
        self, container_id: str, log_file: Path, service: DesiredService | None = None
    ) -> int:
        """Create and start the task; a running task is adopted, a stopped one replaced.
        A container on the project network (`service` says) gets its attachment checked
        first: a reboot or a hand may have removed its namespace."""
        rootfs = self._unstarted.pop(container_id, None)
        if rootfs is None:
            await require_ours(self._client, container_id)
            if (pid := await self._tasks.running_pid(container_id)) is not None:
                return pid
        if service is not None:
            networking = project_network(self._networking, service)
            if networking is not None:
                await networking.ensure(container_id, service)
        return await self._tasks.start(container_id, log_file, rootfs=rootfs, service=service)

    async def stop(self, container_id: str, *, grace: timedelta) -> ExitStatus | None:
        """Stop the task (if any) and delete it; returns its exit status when there was one."""
        container = await container_if_ours(self._client, container_id)
        if container is None:
            return None
        return await self._tasks.stop(container, grace=grace)

    async def remove(self, container_id: str, *, grace: timedelta) -> None:
        """Stop, then delete the container and its snapshot; absent parts are skipped."""
        self._unstarted.pop(container_id, None)
        container = await container_if_ours(self._client, container_id)
        if container is not None:
            await self._tasks.stop(container, grace=grace)
            await tolerate_not_found(self._client.containers.delete(container_id))
        if container is not None and container.snapshot_key == container_id:
            # The snapshot our container used is ours: made by our create, under our key.
            await tolerate_not_found(self._client.snapshots.remove(container_id))
        else:
            await remove_snapshot_if_ours(self._client, container_id)
        if self._networking is not None:
            await self._networking.detach(container_id)

    async def exec(self, container_id: str, args: Sequence[str], *, limit: timedelta) -> int | None:
        """Run `args` in the running container like its main process; the exit code, or
        None when it did not finish within `limit` (it is killed then)."""
        container = await require_ours(self._client, container_id)
        return await self._tasks.exec(container, args, limit=limit)
