"""Which objects on the host `leak-check` counts: shims, rootfs mounts, cgroups and host
services' processes. Pure.

Why apart: containerd's API does not list these (docs/containerd.md, "What the API does
not show"); the host probe finds them, unlabelled, and they are known only by a container
or unit id, so each is judged against the live tasks (and host units) rather than by
label. Class by class:

- shims, mounts, cgroups: of a project id with no task at all (a stopped task still
  holds its shim, rootfs and cgroup until it is deleted; the task itself is judged
  under "tasks"). Cgroups are those of containers and of host units (every controller),
  and a host unit's is held while its process runs. A shim serves what its socket says
  (`model.shim_facts`): one container, judged by that id, or a project's group, leaked
  when no task of the project is left (a task is the project's when its container is,
  or, its record gone, when its id is attributable to the project, `leak_owners`).
- host-processes: a host unit's process still running when its service is not desired
  (as a host service), and a live process recorded for a unit whose record is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.controllers.leak_facts import HostFacts, Scope
from reconciler.controllers.leak_owners import Owners, wanted_reason
from reconciler.model.desired import ServiceMode
from reconciler.model.leaks import LeakedItem
from reconciler.model.observed import RuntimeFacts, TaskPhase
from reconciler.model.shim_facts import ShimFact


def _live_task_ids(runtime: RuntimeFacts) -> set[str]:
    return {task.id for task in runtime.tasks}


def shims(owners: Owners, runtime: RuntimeFacts, seen: Iterable[ShimFact]) -> list[LeakedItem]:
    live = _live_task_ids(runtime)
    # A project's shim is held by any task of the project, whichever it started for.
    held = {project for task_id in live for project in owners.projects_of_id(task_id)}
    leaked: dict[str, list[int]] = {}
    details: dict[str, str] = {}
    for shim in seen:
        if shim.project is not None:
            if not owners.in_scope(shim.project) or shim.project in held:
                continue
            key, detail = shim.project, f" of project '{shim.project}'; no task of the project"
        elif shim.container_id is not None:
            if shim.container_id in live or not owners.of_id(shim.container_id):
                continue
            key, detail = shim.container_id, "; no task"
        else:
            continue  # a group that is not ours
        leaked.setdefault(key, []).append(shim.pid)
        details[key] = detail
    return [
        LeakedItem(id=key, detail=f"shim pid {', '.join(map(str, sorted(pids)))}{details[key]}")
        for key, pids in sorted(leaked.items())
    ]


def mount_container_id(namespace: str, mount_point: str) -> str | None:
    """The container id in `<state>/io.containerd.runtime.v2.task/<ns>/<id>/rootfs[/...]`."""
    marker = f"/io.containerd.runtime.v2.task/{namespace}/"
    _, found, rest = mount_point.partition(marker)
    if not found:
        return None
    container_id, _, tail = rest.partition("/")
    return container_id if tail.split("/", 1)[0] == "rootfs" else None


def mounts(owners: Owners, runtime: RuntimeFacts, points: Iterable[str]) -> list[LeakedItem]:
    live = _live_task_ids(runtime)
    found = []
    for point in points:
        cid = mount_container_id(owners.scope.namespace, point)
        if cid is not None and cid not in live and owners.of_id(cid):
            found.append(LeakedItem(id=point, detail=f"rootfs of {cid}; no task"))
    return found


def cgroups(
    owners: Owners, runtime: RuntimeFacts, by_id: Mapping[str, tuple[str, ...]], host: HostFacts
) -> list[LeakedItem]:
    live = _live_task_ids(runtime) | {
        u.id for u in host.units if u.task is not None and u.task.phase is TaskPhase.RUNNING
    }
    return [
        LeakedItem(id=path, detail=f"cgroup of {cid}; no task or process")
        for cid, paths in sorted(by_id.items())
        if cid not in live and owners.of_id(cid)
        for path in sorted(paths)
    ]


def host_processes(scope: Scope, owners: Owners, host: HostFacts) -> list[LeakedItem]:
    found = []
    for unit in host.units:
        running = unit.task is not None and unit.task.phase is TaskPhase.RUNNING
        if not running or not owners.of_labels(unit.labels):
            continue
        reason = wanted_reason(scope, unit.project, unit.service, ServiceMode.HOST)
        if reason is not None:
            assert unit.task is not None
            found.append(LeakedItem(id=unit.id, detail=f"pid {unit.task.pid}; {reason}"))
    found += [
        LeakedItem(id=p.unit_id, detail=f"pid {p.pid}; unit record gone")
        for p in host.recorded
        if owners.of_id(p.unit_id)
    ]
    return found
