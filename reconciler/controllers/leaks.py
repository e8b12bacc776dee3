"""leak_report(): from what the runtime and the host show, and the desired state, to a
`LeakReport`. Pure.

Ownership is decided here, once, for every class (docs/cli.md, "What counts as a leak";
docs/containerd.md, "What the API does not show"):

- An object with labels is ours only with `orch.managed-by=reconciler`, and the
  project's when `orch.project` names it (snapshots carry no project label, and a lease
  need not; see below). Objects without our labels are never anyone's leak.
- An object with no labels at all (a headless task, a shim, a rootfs mount, a cgroup, a
  network namespace, veth, address or nat rule) is known only by its container id. It
  is the project's when that id is a unit id we know for the project (a labelled
  container, a desired service, a host unit) or starts with `<project>-`, unless a
  container record without our labels holds that id (it is someone else's) or a
  labelled container of another project does.
- With `all_projects`, every project known in the namespace (from labels, unit records,
  the state dir and the desired stack) is in scope.

What counts as a leak, class by class:

- tasks: a task whose container record is gone (headless), or the task of one of our
  containers that no desired service accounts for.
- containers: our containers whose service is not desired, is DISABLED or has moved to
  host mode.
- snapshots: active snapshots with our labels, keyed by an id of the project, that no
  container uses.
- leases: ours whose process (`orch.owner`) is gone, or whose `containerd.io/gc.expire`
  has passed or is missing or unparsable (we never create a lease without one), or that
  were created more than `LEASE_MAX_AGE` ago. A young lease whose process still runs is
  an import or create in flight, not a leak.
  A lease of ours without a project label (the image service used on its own labels
  none) counts for every project of the namespace; one naming a project in
  `orch.project` (as every lease `run`, `apply` and `down` make does) is that project's.
- shims, mounts, cgroups: of a project id with no task at all (a stopped task still
  holds its shim, rootfs and cgroup until it is deleted; the task itself is judged
  under "tasks"). Cgroups are those of containers and of host units (every controller),
  and a host unit's is held while its process runs. A shim serves what its socket says
  (`model.shim_facts`): one
  container, judged by that id, or a project's group, leaked when no task of the
  project is left (a task is the project's when its container is, or, its record gone,
  when its id is attributable to the project as above).
- network-namespaces, veths, ipam-allocations, port-mappings: what a container's
  attachment made, named by its id (in the namespace's name, in the attachment record that
  lists the veth, in host-local's file, in the rules' comments): leaked when the id is the
  project's and no container record holds it. A stopped container keeps its namespace and
  address (a restart keeps the address), so only a container record counts, not a task.
  A port of a project's bridge that no attachment record lists, and an address file that
  names no container, are leaked as they are: nothing can account for them. (An attach
  runs before its container record is created: as with snapshots, a create in progress
  shows for a moment.)
- bridges: a project's bridge that no existing container holds an attachment on (the
  last detach deletes it).
- host-processes: a host unit's process still running when its service is not desired
  (as a host service), and a live process recorded for a unit whose record is gone.
- volumes and log files are data: reported, never deleted. A named volume directory is
  accounted for when any service in the Orchfile (DISABLED ones too: their data is still
  wanted) mounts it; a log file when it is a service's stdout or stderr, or is named
  `<service>.<anything>` (rotations) for a service in the Orchfile.

Whatever could not be observed makes its class `Unchecked` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, TypeVar

from reconciler.model import labels
from reconciler.model.desired import DesiredStack, NamedVolume, ServiceMode
from reconciler.model.leaks import (
    Checked,
    ClassOutcome,
    LeakClass,
    LeakedItem,
    LeakReport,
    Unchecked,
)
from reconciler.model.network_facts import (
    BridgeFact,
    IpamAllocation,
    NatRules,
    NetnsFact,
    VethFact,
)
from reconciler.model.observed import ObservedUnit, RuntimeFacts, TaskPhase
from reconciler.model.shim_facts import ShimFact

# Longer than any lease we create lives (an image import: 1 h), with room for a slow one.
LEASE_MAX_AGE: Final = timedelta(hours=2)

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class NotObserved:
    """A probe that could not look (containerd unreachable, /proc unreadable...)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordedProcess:
    """A live process recorded for a host unit whose record is gone."""

    unit_id: str
    pid: int


@dataclass(frozen=True, kw_only=True)
class HostFacts:
    units: tuple[ObservedUnit, ...] = ()
    recorded: tuple[RecordedProcess, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ProjectFile:
    """A file or directory under a project's state dir (a volume, a log file)."""

    project: str
    path: Path


@dataclass(frozen=True, kw_only=True)
class LeakFacts:
    """Everything gathered for one check; each part observed or `NotObserved`."""

    runtime: RuntimeFacts | NotObserved
    shims: tuple[ShimFact, ...] | NotObserved
    mounts: tuple[str, ...] | NotObserved
    cgroups: Mapping[str, tuple[str, ...]] | NotObserved
    network_namespaces: tuple[NetnsFact, ...] | NotObserved
    veths: tuple[VethFact, ...] | NotObserved
    ipam_allocations: tuple[IpamAllocation, ...] | NotObserved
    nat_rules: tuple[NatRules, ...] | NotObserved
    bridges: tuple[BridgeFact, ...] | NotObserved
    host: HostFacts | NotObserved
    volumes: tuple[ProjectFile, ...] | NotObserved
    log_files: tuple[ProjectFile, ...] | NotObserved
    # Projects with a state dir in the namespace, for --all-projects attribution.
    state_projects: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Scope:
    namespace: str
    desired: DesiredStack
    all_projects: bool = False

    @property
    def project(self) -> str:
        return self.desired.project


class _Owners:
    """Who an object belongs to, by labels or by container id."""

    def __init__(self, scope: Scope, facts: LeakFacts) -> None:
        self.scope = scope
        runtime = facts.runtime if isinstance(facts.runtime, RuntimeFacts) else RuntimeFacts()
        host = facts.host if isinstance(facts.host, HostFacts) else HostFacts()
        self.unit_project: dict[str, str] = {}
        self.foreign_ids: set[str] = set()
        for container in runtime.containers:
            if labels.is_ours(container.labels):
                self.unit_project[container.id] = container.labels.get(labels.PROJECT, "")
            else:
                self.foreign_ids.add(container.id)
        for unit in host.units:
            self.unit_project.setdefault(unit.id, unit.project)
        for service in scope.desired.services:
            unit_id = labels.container_id(scope.project, service.name)
            self.unit_project.setdefault(unit_id, scope.project)
        # A project's files and its network's objects name the project.
        named = (
            facts.volumes,
            facts.log_files,
            facts.veths,
            facts.ipam_allocations,
            facts.bridges,
        )
        found_projects = [
            found.project for seen in named if not isinstance(seen, NotObserved) for found in seen
        ]
        # So does the socket of a project's shim.
        if not isinstance(facts.shims, NotObserved):
            found_projects += [shim.project for shim in facts.shims if shim.project is not None]
        known = {
            scope.project,
            *facts.state_projects,
            *found_projects,
            *self.unit_project.values(),
        }
        self.projects = sorted(p for p in known if p) if scope.all_projects else [scope.project]

    def in_scope(self, project: str | None) -> bool:
        return project is not None and project in self.projects

    def of_labels(self, object_labels: Mapping[str, str]) -> bool:
        return labels.is_ours(object_labels) and self.in_scope(object_labels.get(labels.PROJECT))

    def of_id(self, object_id: str) -> bool:
        """An object known only by a container id is ours when the id is attributable."""
        return any(self.in_scope(project) for project in self.projects_of_id(object_id))

    def projects_of_id(self, object_id: str) -> set[str]:
        """The projects a container id may be of: its unit's, else every project in scope
        it starts with (`a-b-c` may be of `a` or of `a-b`); none for a foreign record."""
        if object_id in self.foreign_ids:
            return set()
        if object_id in self.unit_project:
            return {self.unit_project[object_id]}
        return {project for project in self.projects if object_id.startswith(f"{project}-")}


def _wanted_reason(scope: Scope, project: str, service: str, mode: ServiceMode) -> str | None:
    """Why a unit of (project, service) in `mode` is not accounted for; None if it is."""
    if project != scope.project:
        return f"project '{project}' is not in the Orchfile"
    desired = scope.desired.service(service)
    if desired is None:
        return f"service '{service}' is not desired"
    if desired.disabled:
        return f"service '{service}' is DISABLED"
    if desired.mode is not mode:
        return f"service '{service}' now runs as a {desired.mode.value} service"
    return None


def _container_reasons(scope: Scope, owners: _Owners, runtime: RuntimeFacts) -> dict[str, str]:
    reasons = {}
    for container in runtime.containers:
        if not owners.of_labels(container.labels):
            continue
        project = container.labels.get(labels.PROJECT, "")
        service = container.labels.get(labels.SERVICE, "")
        reason = _wanted_reason(scope, project, service, ServiceMode.CONTAINER)
        if reason is not None:
            reasons[container.id] = reason
    return reasons


def _tasks(scope: Scope, owners: _Owners, runtime: RuntimeFacts) -> list[LeakedItem]:
    container_ids = {c.id for c in runtime.containers}
    undesired = _container_reasons(scope, owners, runtime)
    found = []
    for task in runtime.tasks:
        detail = f"pid {task.pid}, {task.phase.value}"
        if task.id not in container_ids:
            if owners.of_id(task.id):
                found.append(LeakedItem(id=task.id, detail=f"{detail}; container record gone"))
        elif task.id in undesired:
            found.append(LeakedItem(id=task.id, detail=f"{detail}; {undesired[task.id]}"))
    return found


def _containers(scope: Scope, owners: _Owners, runtime: RuntimeFacts) -> list[LeakedItem]:
    reasons = _container_reasons(scope, owners, runtime)
    return [LeakedItem(id=cid, detail=reason) for cid, reason in reasons.items()]


def _snapshots(owners: _Owners, runtime: RuntimeFacts) -> list[LeakedItem]:
    used = {c.snapshot_key for c in runtime.containers}
    return [
        LeakedItem(id=s.name, detail="active snapshot without a container")
        for s in runtime.snapshots
        if s.active and labels.is_ours(s.labels) and s.name not in used and owners.of_id(s.name)
    ]


def _leases(owners: _Owners, runtime: RuntimeFacts, now: datetime) -> list[LeakedItem]:
    found = []
    for lease in runtime.leases:
        if not labels.is_ours(lease.labels):
            continue
        project = lease.labels.get(labels.PROJECT)
        if project is not None and not owners.in_scope(project):
            continue
        expiry = labels.lease_expiry(lease.labels)
        if lease.owner_gone:
            owner = lease.labels.get(labels.OWNER, "")
            found.append(LeakedItem(id=lease.id, detail=f"its process ({owner}) is gone"))
        elif expiry is None:
            found.append(LeakedItem(id=lease.id, detail="no valid expiry (never collected)"))
        elif expiry <= now:
            found.append(LeakedItem(id=lease.id, detail=f"expired {_stamp(expiry)}"))
        elif lease.created_at is not None and now - lease.created_at > LEASE_MAX_AGE:
            found.append(LeakedItem(id=lease.id, detail=f"created {_stamp(lease.created_at)}"))
    return found


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _live_task_ids(runtime: RuntimeFacts) -> set[str]:
    return {task.id for task in runtime.tasks}


def _shims(owners: _Owners, runtime: RuntimeFacts, shims: Iterable[ShimFact]) -> list[LeakedItem]:
    live = _live_task_ids(runtime)
    # A project's shim is held by any task of the project, whichever it started for.
    held = {project for task_id in live for project in owners.projects_of_id(task_id)}
    leaked: dict[str, list[int]] = {}
    details: dict[str, str] = {}
    for shim in shims:
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


def _mounts(owners: _Owners, runtime: RuntimeFacts, mounts: Iterable[str]) -> list[LeakedItem]:
    live = _live_task_ids(runtime)
    found = []
    for point in mounts:
        cid = mount_container_id(owners.scope.namespace, point)
        if cid is not None and cid not in live and owners.of_id(cid):
            found.append(LeakedItem(id=point, detail=f"rootfs of {cid}; no task"))
    return found


def _cgroups(
    owners: _Owners, runtime: RuntimeFacts, cgroups: Mapping[str, tuple[str, ...]], host: HostFacts
) -> list[LeakedItem]:
    live = _live_task_ids(runtime) | {
        u.id for u in host.units if u.task is not None and u.task.phase is TaskPhase.RUNNING
    }
    return [
        LeakedItem(id=path, detail=f"cgroup of {cid}; no task or process")
        for cid, paths in sorted(cgroups.items())
        if cid not in live and owners.of_id(cid)
        for path in sorted(paths)
    ]


def _container_ids(runtime: RuntimeFacts) -> set[str]:
    return {container.id for container in runtime.containers}


def _has_containers(runtime: RuntimeFacts, project: str) -> bool:
    return any(
        labels.is_ours(c.labels) and c.labels.get(labels.PROJECT) == project
        for c in runtime.containers
    )


def _unheld(owners: _Owners, existing: Set[str], container_id: str) -> bool:
    """A network object made for `container_id`, of a project in scope, that no container
    record holds: a leak."""
    return container_id not in existing and owners.of_id(container_id)


def _network_namespaces(
    owners: _Owners, runtime: RuntimeFacts, namespaces: Iterable[NetnsFact]
) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    return [
        LeakedItem(id=ns.name, detail=f"of {ns.container_id}; no container")
        for ns in namespaces
        if _unheld(owners, existing, ns.container_id)
    ]


def _veths(owners: _Owners, runtime: RuntimeFacts, veths: Iterable[VethFact]) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    found = []
    for veth in veths:
        if veth.container_id is None:
            if owners.in_scope(veth.project):
                detail = f"on bridge {veth.bridge}; no attachment record lists it"
                found.append(LeakedItem(id=veth.name, detail=detail))
        elif _unheld(owners, existing, veth.container_id):
            detail = f"of {veth.container_id} on bridge {veth.bridge}; no container"
            found.append(LeakedItem(id=veth.name, detail=detail))
    return found


def _ipam_allocations(
    owners: _Owners, runtime: RuntimeFacts, allocations: Iterable[IpamAllocation]
) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    found = []
    for allocation in allocations:
        if allocation.container_id is None:
            if owners.in_scope(allocation.project):
                detail = f"{allocation.address}; the file names no container"
                found.append(LeakedItem(id=str(allocation.path), detail=detail))
        elif _unheld(owners, existing, allocation.container_id):
            detail = f"{allocation.address} of {allocation.container_id}; no container"
            found.append(LeakedItem(id=str(allocation.path), detail=detail))
    return found


def _port_mappings(
    owners: _Owners, runtime: RuntimeFacts, rules: Iterable[NatRules]
) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    found = []
    for group in rules:
        if not group.container_id:
            if owners.in_scope(group.project) and not _has_containers(runtime, group.project):
                detail = f"masquerading rule of network {group.network}; no container"
                found.append(LeakedItem(id=group.network, detail=detail))
            continue
        if not _unheld(owners, existing, group.container_id):
            continue
        chains = f", chains {', '.join(group.chains)}" if group.chains else ""
        detail = (
            f"{group.rules} nat {_plural(group.rules, 'rule')} of network {group.network}"
            f"{chains}; no container"
        )
        found.append(LeakedItem(id=group.container_id, detail=detail))
    return found


def _bridges(
    owners: _Owners, runtime: RuntimeFacts, bridges: Iterable[BridgeFact]
) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    found = []
    for bridge in bridges:
        if not owners.in_scope(bridge.project) or existing.intersection(bridge.holders):
            continue
        ports = f"{bridge.interfaces} {_plural(bridge.interfaces, 'interface')}"
        detail = f"of project '{bridge.project}', {ports}; no container is attached"
        found.append(LeakedItem(id=bridge.name, detail=detail))
    return found


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else f"{noun}s"


def _host_processes(scope: Scope, owners: _Owners, host: HostFacts) -> list[LeakedItem]:
    found = []
    for unit in host.units:
        running = unit.task is not None and unit.task.phase is TaskPhase.RUNNING
        if not running or not owners.of_labels(unit.labels):
            continue
        reason = _wanted_reason(scope, unit.project, unit.service, ServiceMode.HOST)
        if reason is not None:
            assert unit.task is not None
            found.append(LeakedItem(id=unit.id, detail=f"pid {unit.task.pid}; {reason}"))
    found += [
        LeakedItem(id=p.unit_id, detail=f"pid {p.pid}; unit record gone")
        for p in host.recorded
        if owners.of_id(p.unit_id)
    ]
    return found


def _volume_names(scope: Scope) -> set[str]:
    return {
        volume.name
        for service in scope.desired.services
        for volume in service.volumes
        if isinstance(volume, NamedVolume)
    }


def _volumes(scope: Scope, owners: _Owners, volumes: Iterable[ProjectFile]) -> list[LeakedItem]:
    used = _volume_names(scope)
    return [
        LeakedItem(id=str(v.path), detail=f"volume '{v.path.name}' of no service in the Orchfile")
        for v in volumes
        if owners.in_scope(v.project) and not (v.project == scope.project and v.path.name in used)
    ]


def _log_accounted(scope: Scope, file: ProjectFile, names: Set[str], paths: Set[Path]) -> bool:
    if file.project != scope.project:
        return False
    return file.path in paths or file.path.name.split(".", 1)[0] in names


def _log_files(scope: Scope, owners: _Owners, files: Iterable[ProjectFile]) -> list[LeakedItem]:
    names = {str(s.name) for s in scope.desired.services}
    paths = {p for s in scope.desired.services for p in (s.stdout, s.stderr)}
    return [
        LeakedItem(id=str(f.path), detail="log of no service in the Orchfile")
        for f in files
        if owners.in_scope(f.project) and not _log_accounted(scope, f, names, paths)
    ]


def _outcome(
    leak_class: LeakClass, observed: T | NotObserved, judge: Callable[[T], list[LeakedItem]]
) -> ClassOutcome:
    if isinstance(observed, NotObserved):
        return Unchecked(leak_class=leak_class, reason=observed.reason)
    items = sorted(judge(observed), key=lambda item: item.id)
    return Checked(leak_class=leak_class, leaked=tuple(items))


def _with_runtime(
    leak_class: LeakClass,
    runtime: RuntimeFacts | NotObserved,
    observed: T | NotObserved,
    judge: Callable[[RuntimeFacts, T], list[LeakedItem]],
) -> ClassOutcome:
    """Classes judged against the live tasks need both the runtime and their own probe."""
    if isinstance(runtime, NotObserved):
        return Unchecked(leak_class=leak_class, reason=runtime.reason)
    return _outcome(leak_class, observed, lambda seen: judge(runtime, seen))


def leak_report(facts: LeakFacts, scope: Scope, *, now: datetime) -> LeakReport:
    owners = _Owners(scope, facts)
    runtime = facts.runtime
    # A cgroup of a running host unit is held; without host facts, none is.
    host_or_none = facts.host if isinstance(facts.host, HostFacts) else HostFacts()
    outcomes = (
        _outcome(LeakClass.TASKS, runtime, lambda r: _tasks(scope, owners, r)),
        _outcome(LeakClass.CONTAINERS, runtime, lambda r: _containers(scope, owners, r)),
        _outcome(LeakClass.SNAPSHOTS, runtime, lambda r: _snapshots(owners, r)),
        _outcome(LeakClass.LEASES, runtime, lambda r: _leases(owners, r, now)),
        _with_runtime(LeakClass.SHIMS, runtime, facts.shims, lambda r, s: _shims(owners, r, s)),
        _with_runtime(LeakClass.MOUNTS, runtime, facts.mounts, lambda r, m: _mounts(owners, r, m)),
        _with_runtime(
            LeakClass.CGROUPS,
            runtime,
            facts.cgroups,
            lambda r, c: _cgroups(owners, r, c, host_or_none),
        ),
        _with_runtime(
            LeakClass.NETWORK_NAMESPACES,
            runtime,
            facts.network_namespaces,
            lambda r, n: _network_namespaces(owners, r, n),
        ),
        _with_runtime(LeakClass.VETHS, runtime, facts.veths, lambda r, v: _veths(owners, r, v)),
        _with_runtime(
            LeakClass.IPAM_ALLOCATIONS,
            runtime,
            facts.ipam_allocations,
            lambda r, a: _ipam_allocations(owners, r, a),
        ),
        _with_runtime(
            LeakClass.PORT_MAPPINGS,
            runtime,
            facts.nat_rules,
            lambda r, n: _port_mappings(owners, r, n),
        ),
        _with_runtime(
            LeakClass.BRIDGES, runtime, facts.bridges, lambda r, b: _bridges(owners, r, b)
        ),
        _outcome(LeakClass.HOST_PROCESSES, facts.host, lambda h: _host_processes(scope, owners, h)),
        _outcome(LeakClass.VOLUMES, facts.volumes, lambda v: _volumes(scope, owners, v)),
        _outcome(LeakClass.LOG_FILES, facts.log_files, lambda f: _log_files(scope, owners, f)),
    )
    return LeakReport(
        project=scope.project,
        namespace=scope.namespace,
        all_projects=scope.all_projects,
        outcomes=outcomes,
    )
