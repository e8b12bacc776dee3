"""Observe a project's actual state in containerd: list everything, conclude nothing.

One pass of `List` calls, filtered by our labels, turned into the typed `Observed`
model. Tasks are joined to containers by id; shims are found in `/proc` and joined by
whom they serve (a container, or its project's group). An unreachable daemon yields
`Unreachable`, never an empty observation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from reconciler.clock import Clock
from reconciler.drivers.containerd import lease_owner
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.host_probe import oom_killed, shim_facts
from reconciler.drivers.containerd.types import (
    Container,
    Lease,
    SnapshotInfo,
    SnapshotKind,
    Task,
    TaskStatus,
)
from reconciler.errors import RuntimeUnavailable
from reconciler.model import labels
from reconciler.model.desired import ServiceMode
from reconciler.model.observed import (
    ContainerFact,
    LeaseFact,
    Observation,
    Observed,
    ObservedLease,
    ObservedTask,
    ObservedUnit,
    RuntimeFacts,
    SnapshotFact,
    TaskFact,
    TaskPhase,
    Unreachable,
)
from reconciler.model.shim_facts import ShimFact

SIGKILL_EXIT: Final = 128 + 9

TASK_PHASES = {
    TaskStatus.CREATED: TaskPhase.CREATED,
    TaskStatus.RUNNING: TaskPhase.RUNNING,
    TaskStatus.STOPPED: TaskPhase.STOPPED,
    TaskStatus.PAUSED: TaskPhase.PAUSED,
    TaskStatus.PAUSING: TaskPhase.PAUSED,
    TaskStatus.UNKNOWN: TaskPhase.UNKNOWN,
}


async def observe(client: ContainerdClient, *, project: str | None, clock: Clock) -> Observation:
    try:
        every_container = await client.containers.list()
        task_list = await client.tasks.list()
        snapshots = await client.snapshots.list(labels=labels.ours())
        leases = await client.leases.list(labels=labels.ours())
    except RuntimeUnavailable as error:
        return Unreachable(namespace=client.namespace, reason=str(error), observed_at=clock.now())
    containers = [
        c
        for c in every_container
        if labels.is_ours(c.labels) and (project is None or c.labels.get(labels.PROJECT) == project)
    ]
    every_container_id = {c.id for c in every_container}
    tasks = {task.id: task for task in task_list}
    shims = _Shims.of(_shim_facts(client))
    snapshot_keys = {s.name for s in snapshots}
    # A snapshot any container uses is no stray, whichever project the container is of.
    used_keys = {c.snapshot_key for c in every_container}
    prefix = f"{project}-" if project is not None else ""
    return Observed(
        namespace=client.namespace,
        project=project,
        observed_at=clock.now(),
        units=tuple(
            _container(
                c,
                _task(client.namespace, tasks.get(c.id)),
                c.snapshot_key in snapshot_keys,
                shims.serving(c),
            )
            for c in containers
        ),
        headless_tasks=tuple(
            sorted(t for t in tasks if t not in every_container_id and t.startswith(prefix))
        ),
        stray_snapshots=tuple(
            sorted(
                s.name
                for s in snapshots
                if s.kind is SnapshotKind.ACTIVE
                and s.name not in used_keys
                and s.name.startswith(prefix)
            )
        ),
        leases=tuple(
            ObservedLease(id=lease.id, created_at=lease.created_at, labels=lease.labels)
            for lease in leases
        ),
        runtime=runtime_facts(every_container, task_list, snapshots, leases),
    )


def _shim_facts(client: ContainerdClient) -> tuple[ShimFact, ...]:
    try:
        return shim_facts(client.namespace, client.socket)
    except OSError:
        return ()  # not the shims' owner: only `leak-check` needs them, and says so


@dataclass(frozen=True, kw_only=True)
class _Shims:
    """Shim pids by the container they serve alone, and by the project whose group they
    serve. A container has a shim of its own only if it was made without a group (before
    grouping); one that has none is served by its project's."""

    by_container: Mapping[str, list[int]]
    by_project: Mapping[str, list[int]]

    @classmethod
    def of(cls, shims: Sequence[ShimFact]) -> _Shims:
        by_container: dict[str, list[int]] = {}
        by_project: dict[str, list[int]] = {}
        for shim in shims:
            if shim.container_id is not None:
                by_container.setdefault(shim.container_id, []).append(shim.pid)
            elif shim.project is not None:
                by_project.setdefault(shim.project, []).append(shim.pid)
        return cls(by_container=by_container, by_project=by_project)

    def serving(self, container: Container) -> list[int]:
        own = self.by_container.get(container.id)
        return own or self.by_project.get(container.labels.get(labels.PROJECT, ""), [])


def runtime_facts(
    containers: Sequence[Container],
    tasks: Sequence[Task],
    snapshots: Sequence[SnapshotInfo],
    leases: Sequence[Lease],
) -> RuntimeFacts:
    """containerd's listing of a namespace as the leak decision reads it."""
    return RuntimeFacts(
        containers=tuple(
            ContainerFact(id=c.id, labels=c.labels, snapshot_key=c.snapshot_key) for c in containers
        ),
        tasks=tuple(TaskFact(id=t.id, pid=t.pid, phase=TASK_PHASES[t.status]) for t in tasks),
        snapshots=tuple(
            SnapshotFact(name=s.name, active=s.kind is SnapshotKind.ACTIVE, labels=s.labels)
            for s in snapshots
        ),
        leases=tuple(
            LeaseFact(
                id=lease.id,
                created_at=lease.created_at,
                labels=lease.labels,
                owner_gone=lease_owner.is_gone(lease.labels.get(labels.OWNER, "")),
            )
            for lease in leases
        ),
    )


def _task(namespace: str, task: Task | None) -> ObservedTask | None:
    if task is None:
        return None
    phase = TASK_PHASES[task.status]
    stopped = phase is TaskPhase.STOPPED
    return ObservedTask(
        phase=phase,
        pid=task.pid,
        exit_code=task.exit_status if stopped else None,
        exited_at=task.exited_at,
        oom_killed=stopped and task.exit_status == SIGKILL_EXIT and oom_killed(namespace, task.id),
    )


def _container(
    container: Container,
    observed_task: ObservedTask | None,
    snapshot_present: bool,
    shim_pids: list[int],
) -> ObservedUnit:
    return ObservedUnit.from_labels(
        id=container.id,
        mode=ServiceMode.CONTAINER,
        image=container.image,
        labels=container.labels,
        created_at=container.created_at,
        task=observed_task,
        snapshot_present=snapshot_present,
        shim_pids=tuple(sorted(shim_pids)),
    )
