"""The actions a plan is made of, each with the service it concerns and its cause.

`reconciler plan` prints them; the engine executes them through the drivers. They are
data, not behaviour: the planner decides, the engine acts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from reconciler.model.desired import ServiceMode, ServiceName
from reconciler.model.journal import ExitOutcome
from reconciler.model.status import Verb


def _no_labels() -> Mapping[str, str | None]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class Create:
    """Create the unit and start it (pulling or importing the image first if needed)."""

    service: ServiceName
    cause: str


@dataclass(frozen=True, kw_only=True)
class Start:
    """Start the unit's process again (a restart, or a task that went missing).
    `reset_starts`: the start-limit window starts over with this start (`apply` reset
    a failed service). `stop_first`: its process still runs and is stopped first (a
    liveness failure, or a service it REQUIRES was restarted)."""

    service: ServiceName
    cause: str
    is_restart: bool = False
    reset_starts: bool = False
    stop_first: bool = False


@dataclass(frozen=True, kw_only=True)
class Recreate:
    """Remove the unit and create it anew (its configuration changed)."""

    service: ServiceName
    unit_id: str
    mode: ServiceMode
    cause: str


@dataclass(frozen=True, kw_only=True)
class Reload:
    """Run the host service's RELOAD: only its ENV_FILE contents changed, which the
    process re-reads; a failed RELOAD falls back to a recreate."""

    service: ServiceName
    unit_id: str
    mode: ServiceMode
    cause: str


@dataclass(frozen=True, kw_only=True)
class Remove:
    """Stop and delete a unit: an orphan, a disabled service, or everything on `down`."""

    unit_id: str
    mode: ServiceMode
    cause: str
    service: str = ""
    grace: timedelta | None = None


@dataclass(frozen=True, kw_only=True)
class ExitNote:
    """The exit a `Record` counts, and what the restart policy decided about it: the
    engine reports it once, when the bookkeeping is written."""

    exit_code: int
    oom_killed: bool
    outcome: ExitOutcome
    delay: timedelta | None = None  # BACKOFF: how long until the restart
    starts: int = 0  # GAVE_UP: the starts counted within the interval
    interval: timedelta | None = None


@dataclass(frozen=True, kw_only=True)
class Record:
    """Store bookkeeping in the unit's labels (exit code, completion, failure)."""

    service: ServiceName
    unit_id: str
    mode: ServiceMode
    labels: Mapping[str, str | None] = field(default_factory=_no_labels)
    cause: str = ""
    exit: ExitNote | None = None


Action = Create | Start | Recreate | Reload | Remove | Record


def verb(action: Action) -> Verb:
    match action:
        case Create():
            return Verb.CREATE
        case Start(is_restart=is_restart, stop_first=stop_first):
            return Verb.RESTART if is_restart or stop_first else Verb.START
        case Recreate():
            return Verb.RECREATE
        case Reload():
            return Verb.RELOAD
        case Remove():
            return Verb.REMOVE
        case Record():
            return Verb.RECORD


def subject(action: Action) -> str:
    """The service an action concerns (an orphan's unit id when it has none)."""
    match action:
        case Remove(service=service, unit_id=unit_id):
            return service or unit_id
        case Create(service=s) | Start(service=s) | Recreate(service=s) | Reload(service=s):
            return s
        case Record(service=service):
            return service


def describe(action: Action) -> str:
    """One line for `plan` and the log: `recreate web: config changed (ENV A)`."""
    return f"{verb(action).value} {subject(action)}: {action.cause}"
