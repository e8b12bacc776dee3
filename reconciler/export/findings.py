"""What an export could not carry over: one finding per directive that lost something.

Every mapping that changes a directive's meaning (or drops it) says so with a warning
naming the service and the directive; a directive that cannot be mapped at all is an
error, and the export produces nothing. Findings carry the directive (and, for list
directives, which entry) rather than a file and line: the export works on the desired
model, which has no positions, and the command looks the position up in the Orch
document it loaded. `--strict` turns every warning into an error (`Export.problems`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from reconciler.model.desired import ServiceName


class Severity(enum.Enum):
    WARNING = "warning"
    ERROR = "error"


class Directive(enum.Enum):
    """The Orchfile directives findings are about, by the name the user writes."""

    SERVICE = "SERVICE"
    FROM = "FROM"
    RUN = "RUN"
    ENTRYPOINT = "ENTRYPOINT"
    CMD = "CMD"
    WORKDIR = "WORKDIR"
    PUBLISH = "PUBLISH"
    VOLUME = "VOLUME"
    ENV = "ENV"
    ENV_FILE = "ENV_FILE"
    REQUIRES = "REQUIRES"
    AFTER = "AFTER"
    HEALTHCHECK = "HEALTHCHECK"
    READINESS_TIMEOUT = "READINESS_TIMEOUT"
    ONESHOT = "ONESHOT"
    RECREATE = "RECREATE"
    RESTART = "RESTART"
    RESTART_DELAY = "RESTART_DELAY"
    START_LIMIT_BURST = "START_LIMIT_BURST"
    START_LIMIT_INTERVAL = "START_LIMIT_INTERVAL"
    TIMEOUT_START = "TIMEOUT_START"
    LIMIT_NOFILE = "LIMIT_NOFILE"
    LIMIT_NPROC = "LIMIT_NPROC"
    TASKS_MAX = "TASKS_MAX"
    IO_WEIGHT = "IO_WEIGHT"
    STDOUT = "STDOUT"
    STDERR = "STDERR"


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing lost or refused. `service` is None only for a command-line option that
    concerns no service (an `--image-map` that matches no FROM); `index` is the entry of
    a list directive (the second VOLUME is 1), -1 for the directive's last line."""

    severity: Severity
    service: ServiceName | None
    directive: Directive | None
    index: int = -1
    message: str

    def describe(self) -> str:
        return f"service '{self.service}': {self.message}" if self.service else self.message


class Findings:
    """Collects findings while one export runs; the mapping functions add to it."""

    def __init__(self) -> None:
        self._found: list[Finding] = []

    def warn(
        self,
        service: ServiceName | None,
        directive: Directive | None,
        message: str,
        index: int = -1,
    ) -> None:
        self._add(Severity.WARNING, service, directive, message, index)

    def fail(
        self,
        service: ServiceName | None,
        directive: Directive | None,
        message: str,
        index: int = -1,
    ) -> None:
        self._add(Severity.ERROR, service, directive, message, index)

    def all(self) -> tuple[Finding, ...]:
        return tuple(self._found)

    def _add(
        self,
        severity: Severity,
        service: ServiceName | None,
        directive: Directive | None,
        message: str,
        index: int,
    ) -> None:
        self._found.append(
            Finding(
                severity=severity,
                service=service,
                directive=directive,
                index=index,
                message=message,
            )
        )
