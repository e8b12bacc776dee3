"""What `status` reports, per PRODUCT.md's status JSON: desired against actual per service.

Assembled by the controllers from the desired stack, the observation and the engine's
in-memory knowledge (health, backoff); printed by the CLI as a table, JSON or YAML.
Values of ENV and ENV_FILE never appear here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


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


@dataclass(frozen=True, kw_only=True)
class ServiceStatus:
    name: str
    mode: str
    desired: str
    state: ServiceState
    health: Health = Health.NONE
    pid: int | None = None
    restarts: int = 0
    exit_code: int | None = None
    image: str | None = None
    drift: Drift | None = None
    reason: str | None = None
    since: datetime | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.since.utcoffset() is None:
            raise ValueError(f"service {self.name}: `since` must carry a time zone")


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
class StatusReport:
    project: str
    namespace: str
    converged: bool
    orchfile: OrchfileStatus
    services: tuple[ServiceStatus, ...] = ()
    leaks: Leaks = field(default_factory=Leaks)
    runtime_error: str | None = None
