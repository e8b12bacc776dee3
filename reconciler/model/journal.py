"""What the reconciler did and saw, as typed entries: `reconciler events` and `run`'s log.

Why this exists: a person reads `run`'s log, a script reads `events -o json`, and both
must tell the same story. Each happening is one typed entry, published once by the code
that knows it happened; its `line()` is the one sentence a person reads (the log prints
exactly that), and its fields are what a script branches on. No message is assembled
anywhere else, so the words are chosen in one place and never repeat each other.
"""

from __future__ import annotations

import enum
import re
import typing
from dataclasses import dataclass
from datetime import datetime, timedelta

from reconciler.model.desired import ServiceMode
from reconciler.model.status import Health, Verb


def _seconds(span: timedelta) -> str:
    seconds = span.total_seconds()
    return f"{seconds:g}s" if seconds == round(seconds, 1) else f"{seconds:.1f}s"


@dataclass(frozen=True, kw_only=True)
class DesiredLoaded:
    """The files were read and their desired state is now in force."""

    at: datetime
    digest: str
    services: int
    repaired: bool = False  # the previous save had been rejected

    def line(self) -> str:
        if self.repaired:
            return f"the Orchfile is valid again: {self.services} service(s) in force"
        return f"desired state reloaded: {self.services} service(s)"


@dataclass(frozen=True, kw_only=True)
class SaveRejected:
    """A save that does not parse; the last good desired state stays in force."""

    at: datetime
    error: str

    def line(self) -> str:
        return f"save not applied, the last good state stays in force: {self.error}"


@dataclass(frozen=True, kw_only=True)
class SaveHeld:
    """A save that would remove every service: held until `down` or `apply` confirms."""

    at: datetime
    files: tuple[str, ...]
    services: tuple[str, ...]

    def line(self) -> str:
        names = ", ".join(self.services)
        given = " ".join(f"-f {name}" for name in self.files)
        return (
            f"save not applied: it would remove every service ({names}); to confirm, run "
            f"`reconciler down` or `reconciler apply {given}`"
        )


@dataclass(frozen=True, kw_only=True)
class ActionStarted:
    at: datetime
    service: str
    verb: Verb
    cause: str

    def line(self) -> str:
        return f"{self.verb.value} {self.service}: {self.cause}"


@dataclass(frozen=True, kw_only=True)
class ActionFinished:
    """An action ended: `error` is None when it succeeded; `retrying` when it failed for
    a reason that passes by itself."""

    at: datetime
    service: str
    verb: Verb
    cause: str
    duration: timedelta
    error: str | None = None
    retrying: bool = False

    def line(self) -> str:
        if self.error is None:
            return f"{self.verb.value} {self.service}: done in {_seconds(self.duration)}"
        then = "; will retry" if self.retrying else ""
        error = self.error.removeprefix(f"service '{self.service}': ")
        return f"{self.verb.value} {self.service} failed: {error}{then}"


@dataclass(frozen=True, kw_only=True)
class Stopping:
    """A stop began: the signal (or STOP command) and the grace before SIGKILL."""

    at: datetime
    service: str
    signal: str
    grace: timedelta

    def line(self) -> str:
        return f"stopping {self.service}: {self.signal}, SIGKILL in {_seconds(self.grace)}"


class ExitOutcome(enum.Enum):
    """What the restart policy made of an exit."""

    RESTART = "restart"  # restarted now
    BACKOFF = "backoff"  # restarted after a delay
    STAY = "stay"  # left exited (RESTART no, or on-failure with code 0)
    COMPLETED = "completed"  # a oneshot that succeeded
    GAVE_UP = "gave-up"  # the start limit was reached


@dataclass(frozen=True, kw_only=True)
class TaskExited:
    at: datetime
    service: str
    exit_code: int
    oom_killed: bool
    outcome: ExitOutcome
    delay: timedelta | None = None

    def line(self) -> str:
        how = "was oom-killed" if self.oom_killed else f"exited with code {self.exit_code}"
        match self.outcome:
            case ExitOutcome.COMPLETED:
                return f"{self.service} completed"
            case ExitOutcome.BACKOFF if self.delay is not None:
                return f"{self.service} {how}; restarting in {_seconds(self.delay)}"
            case ExitOutcome.STAY:
                return f"{self.service} {how}; left exited by its RESTART policy"
            case _:
                return f"{self.service} {how}"


@dataclass(frozen=True, kw_only=True)
class HealthChanged:
    at: datetime
    service: str
    health: Health
    detail: str

    def line(self) -> str:
        return f"{self.service} is {self.health.value} ({self.detail})"


@dataclass(frozen=True, kw_only=True)
class GaveUp:
    """The start limit was reached: the service is `failed` until reset."""

    at: datetime
    service: str
    starts: int
    interval: timedelta

    def line(self) -> str:
        return (
            f"gave up on {self.service} after {self.starts} starts in {_seconds(self.interval)}"
            f" (`reconciler restart {self.service}` or `reconciler apply` retries it)"
        )


@dataclass(frozen=True, kw_only=True)
class RuntimeLost:
    at: datetime
    mode: ServiceMode
    reason: str

    def line(self) -> str:
        return f"{_runtime(self.mode)} unreachable: {self.reason}"


@dataclass(frozen=True, kw_only=True)
class RuntimeBack:
    at: datetime
    mode: ServiceMode
    after: timedelta

    def line(self) -> str:
        return f"{_runtime(self.mode)} is back after {self.after.total_seconds():.1f}s"


@dataclass(frozen=True, kw_only=True)
class Converged:
    """Every service is where it should be (said when that becomes true)."""

    at: datetime
    services: int

    def line(self) -> str:
        return f"converged: {self.services} service(s)"


def _runtime(mode: ServiceMode) -> str:
    return "containerd" if mode is ServiceMode.CONTAINER else "the host runtime"


Entry = (
    DesiredLoaded
    | SaveRejected
    | SaveHeld
    | ActionStarted
    | ActionFinished
    | Stopping
    | TaskExited
    | HealthChanged
    | GaveUp
    | RuntimeLost
    | RuntimeBack
    | Converged
)


ENTRY_TYPES: tuple[type[Entry], ...] = typing.get_args(Entry)


def kind_of(entry: Entry | type[Entry]) -> str:
    """The entry's type in kebab-case (`ActionStarted` -> `action-started`): the `kind` of
    `events -o json` and the label of `run`'s metrics, so the two name things alike."""
    kind = entry if isinstance(entry, type) else type(entry)
    return re.sub(r"(?<!^)(?=[A-Z])", "-", kind.__name__).lower()
