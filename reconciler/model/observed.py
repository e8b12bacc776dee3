"""What the runtime says exists, rebuilt from scratch on every observation.

Never from memory of what we did (ARCHITECTURE.md). Absent and unknown differ: a
container with `task=None` has no task; a task whose state containerd reports as
unknown has `TaskPhase.UNKNOWN`; a runtime that could not be asked is an
`Unreachable` observation, never an empty list.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType


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


def _no_labels() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class ObservedContainer:
    """One of our containers, with its task (None: no task) and what it owns."""

    id: str
    project: str
    service: str
    config_hash: str
    image: str
    labels: Mapping[str, str] = field(default_factory=_no_labels)
    created_at: datetime | None = None
    task: ObservedTask | None = None
    snapshot_present: bool = True
    shim_pids: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ObservedLease:
    id: str
    created_at: datetime | None
    labels: Mapping[str, str] = field(default_factory=_no_labels)


@dataclass(frozen=True, kw_only=True)
class Observed:
    """Everything of one project (or, with `project=None`, every project) in a namespace."""

    namespace: str
    project: str | None
    observed_at: datetime
    containers: tuple[ObservedContainer, ...] = ()
    # Tasks whose container record is gone (containerd allows deleting a live container).
    headless_tasks: tuple[str, ...] = ()
    # Active snapshots with our labels that no container of ours uses.
    stray_snapshots: tuple[str, ...] = ()
    leases: tuple[ObservedLease, ...] = ()

    def container(self, container_id: str) -> ObservedContainer | None:
        return next((c for c in self.containers if c.id == container_id), None)


@dataclass(frozen=True, kw_only=True)
class Unreachable:
    """The runtime could not be asked; nothing can be concluded about what exists."""

    namespace: str
    reason: str
    observed_at: datetime


Observation = Observed | Unreachable
