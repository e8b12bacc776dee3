"""What `status` reports, per service: desired against actual, typed from end to end.

Assembled by the controllers from the desired stack, the observation and the engine's
knowledge (health, work in flight, backoff); carried over the control API and printed by
the CLI as a table, JSON or YAML. Every decision made from a status (is `apply --wait`
done? is a service on its way or stuck?) reads these typed values, never the `reason`
text, which is for people. Values of ENV and ENV_FILE never appear here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reconciler.model.desired import ServiceMode


class ServiceState(enum.Enum):
    PENDING = "pending"
    BLOCKED = "blocked"
    PULLING = "pulling"
    CREATING = "creating"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    EXITED = "exited"
    COMPLETED = "completed"
    BACKOFF = "backoff"
    FAILED = "failed"
    DISABLED = "disabled"


class DesiredState(enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"  # a oneshot
    DISABLED = "disabled"
    UNKNOWN = "unknown"  # the Orchfile does not parse: what runs is shown as observed


class Health(enum.Enum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    STARTING = "starting"
    NONE = "none"


class Drift(enum.Enum):
    CONFIG_CHANGED = "config-changed"
    CONTAINER_MISSING = "container-missing"
    TASK_MISSING = "task-missing"
    IMAGE_CHANGED = "image-changed"


class Outlook(enum.Enum):
    """Where a service is headed without any change to the files.

    `apply` keeps going while something is PROGRESSING; `apply --wait` also waits through
    WAITING; both stop at once when a service is STUCK (nothing but a change helps).
    """

    SETTLED = "settled"  # where it should be
    PROGRESSING = "progressing"  # work planned or in flight, a first health check pending
    WAITING = "waiting"  # a backoff running out, an unhealthy check that may recover
    STUCK = "stuck"  # gave up, exited for good, cannot be created, or waits on such a one


class Verb(enum.Enum):
    """What an action does, for statuses, the event stream and the log."""

    CREATE = "create"
    START = "start"
    RESTART = "restart"
    RECREATE = "recreate"
    RELOAD = "reload"
    REMOVE = "remove"
    RECORD = "record"


class Relation(enum.Enum):
    REQUIRES = "requires"
    AFTER = "after"


@dataclass(frozen=True, kw_only=True)
class Blocker:
    """The dependency a blocked service waits for, and the condition it is in."""

    on: str
    relation: Relation
    state: ServiceState | None  # None: not started yet, or not in the Orchfile
    health: Health = Health.NONE
    outlook: Outlook = Outlook.PROGRESSING
    missing: bool = False  # named by REQUIRES but not a service of the Orchfile

    def __str__(self) -> str:
        if self.missing:
            condition = "not in the Orchfile"
        elif self.state is None:
            condition = "not started"
        elif self.state is ServiceState.RUNNING and self.health is not Health.NONE:
            condition = self.health.value
        else:
            condition = self.state.value
        lead = "waiting for" if self.relation is Relation.REQUIRES else "after"
        return f"{lead} {self.on} ({condition})"


@dataclass(frozen=True, kw_only=True)
class Activity:
    """Work in flight for a service: the action, its cause, and the step it is at."""

    verb: Verb
    cause: str
    since: datetime
    step: ServiceState  # pulling, creating, starting or stopping


@dataclass(frozen=True, kw_only=True)
class ProbeResult:
    """One health check: passed or not, and what it saw (`HTTP 404 from http://...`)."""

    healthy: bool
    detail: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ServiceStatus:
    name: str
    mode: ServiceMode
    desired: DesiredState
    state: ServiceState
    outlook: Outlook = Outlook.SETTLED
    health: Health = Health.NONE
    health_detail: str | None = None
    pid: int | None = None
    restarts: int = 0
    exit_code: int | None = None
    oom_killed: bool = False
    image: str | None = None
    drift: Drift | None = None
    reason: str | None = None
    since: datetime | None = None
    blocker: Blocker | None = None
    planned: Verb | None = None  # what the next pass does for it, when nothing is in flight
    activity: Activity | None = None
    backoff_until: datetime | None = None
    last_error: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "backoff_until"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"service {self.name}: `{name}` must carry a time zone")


@dataclass(frozen=True, kw_only=True)
class OrchfileStatus:
    files: tuple[str, ...]
    valid: bool
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class Leaks:
    tasks: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = ()
    leases: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.tasks or self.containers or self.snapshots or self.leases)


@dataclass(frozen=True, kw_only=True)
class Load:
    """A load of the desired-state files: when, and a digest of what they said."""

    at: datetime
    digest: str


@dataclass(frozen=True, kw_only=True)
class RejectedSave:
    """A save `run` did not apply: invalid (`FILE:LINE: ...`) or held (it would remove
    every service), with the line that says so."""

    at: datetime
    error: str
    held: bool = False


@dataclass(frozen=True, kw_only=True)
class RuntimeReach:
    """Whether one runtime answers, and since when it does not."""

    mode: ServiceMode
    reachable: bool
    since: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReconcilerInfo:
    """The `run` process serving this status: what it watches and how its passes go."""

    pid: int
    started_at: datetime
    files: tuple[str, ...]
    last_load: Load | None = None
    rejected_save: RejectedSave | None = None
    passes: int = 0
    last_pass_at: datetime | None = None
    last_pass_duration: timedelta | None = None
    runtimes: tuple[RuntimeReach, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StatusReport:
    project: str
    namespace: str
    converged: bool
    orchfile: OrchfileStatus
    services: tuple[ServiceStatus, ...] = ()
    leaks: Leaks = field(default_factory=Leaks)
    runtime_error: str | None = None
    reconciler: ReconcilerInfo | None = None  # None: no `run` holds the project
