"""What the runtime says exists, rebuilt from scratch on every observation.

Never from memory of what we did (docs/architecture.md, "Where state lives"). Absent and
unknown differ: a container with `task=None` has no task; a task whose state containerd
reports as unknown has `TaskPhase.UNKNOWN`; a runtime that could not be asked is an
`Unreachable` observation, never an empty list.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from reconciler.model.desired import ServiceMode
from reconciler.model.labels import CONFIG_HASH, PROJECT, SERVICE


class TaskPhase(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"
    PAUSED = "paused"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class ObservedTask:
    phase: TaskPhase
    pid: int
    exit_code: int | None = None
    exited_at: datetime | None = None
    oom_killed: bool = False  # the kernel killed it for memory (stopped tasks only)


def _no_labels() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class ObservedUnit:
    """One of our units (a container, or a host process's record), with its task or
    process (None: none exists) and what it owns."""

    id: str
    mode: ServiceMode
    project: str
    service: str
    config_hash: str
    image: str
    labels: Mapping[str, str] = field(default_factory=_no_labels)
    created_at: datetime | None = None
    task: ObservedTask | None = None
    snapshot_present: bool = True
    shim_pids: tuple[int, ...] = ()

    @classmethod
    def from_labels(
        cls,
        *,
        id: str,
        mode: ServiceMode,
        labels: Mapping[str, str],
        image: str = "",
        created_at: datetime | None,
        task: ObservedTask | None,
        snapshot_present: bool = True,
        shim_pids: tuple[int, ...] = (),
    ) -> ObservedUnit:
        """A unit as a runtime shows it: whose it is and the config it was made from are
        read off its labels, the same way for every driver."""
        return cls(
            id=id,
            mode=mode,
            project=labels.get(PROJECT, ""),
            service=labels.get(SERVICE, ""),
            config_hash=labels.get(CONFIG_HASH, ""),
            image=image,
            labels=labels,
            created_at=created_at,
            task=task,
            snapshot_present=snapshot_present,
            shim_pids=shim_pids,
        )


def _no_reasons() -> Mapping[ServiceMode, str]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class ObservedLease:
    id: str
    created_at: datetime | None
    labels: Mapping[str, str] = field(default_factory=_no_labels)


@dataclass(frozen=True, kw_only=True)
class ContainerFact:
    id: str
    labels: Mapping[str, str] = field(default_factory=_no_labels)
    snapshot_key: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskFact:
    id: str
    pid: int
    phase: TaskPhase


@dataclass(frozen=True, kw_only=True)
class SnapshotFact:
    name: str
    active: bool
    labels: Mapping[str, str] = field(default_factory=_no_labels)


@dataclass(frozen=True, kw_only=True)
class LeaseFact:
    id: str
    created_at: datetime | None
    labels: Mapping[str, str] = field(default_factory=_no_labels)
    owner_gone: bool = False  # the process its `orch.owner` names is no longer running


@dataclass(frozen=True, kw_only=True)
class RuntimeFacts:
    """One listing of the namespace: every container and task, ours or not (what the
    leak decision needs of containerd, gathered by `leak-check` and by every observation,
    so `status` and `leak-check` judge leaks alike)."""

    containers: tuple[ContainerFact, ...] = ()
    tasks: tuple[TaskFact, ...] = ()
    snapshots: tuple[SnapshotFact, ...] = ()
    leases: tuple[LeaseFact, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Observed:
    """Everything of one project (or, with `project=None`, every project) in a namespace,
    as one driver sees it; the controllers merge the observations of all drivers."""

    namespace: str
    project: str | None
    observed_at: datetime
    units: tuple[ObservedUnit, ...] = ()
    # Tasks whose container record is gone (containerd allows deleting a live container).
    headless_tasks: tuple[str, ...] = ()
    # Active snapshots with our labels that no container of ours uses.
    stray_snapshots: tuple[str, ...] = ()
    leases: tuple[ObservedLease, ...] = ()
    # Runtimes that could not be asked, by mode, with the reason: their services' units
    # are unknown (not absent), so nothing is planned for them.
    unreachable: Mapping[ServiceMode, str] = field(default_factory=_no_reasons)
    # containerd's own listing of the namespace, when containerd was asked: what the leak
    # decision (`controllers.leaks`) reads, so `status` and `leak-check` agree.
    runtime: RuntimeFacts | None = None

    def unit(self, unit_id: str) -> ObservedUnit | None:
        return next((u for u in self.units if u.id == unit_id), None)

    def of_service(self, service: str) -> tuple[ObservedUnit, ...]:
        return tuple(u for u in self.units if u.service == service)


@dataclass(frozen=True, kw_only=True)
class Unreachable:
    """The runtime could not be asked; nothing can be concluded about what exists."""

    namespace: str
    reason: str
    observed_at: datetime


Observation = Observed | Unreachable
