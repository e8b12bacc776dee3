"""What the engine knows of a service that the runtime does not.

Why this exists: containerd and the host records say what exists; they do not say
whether the last health check passed, which action is at work on a service right now,
what the last action's error was, or that a unit existed a moment ago (so that its
absence now is drift, not a first start). The engine keeps that per service, and the
planner reads it as one more input, as it reads the observation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Final

from reconciler.model.desired import ServiceName
from reconciler.model.status import Activity, Health, ProbeResult

# A service that has passed its health check is unhealthy after this many failed checks
# in a row (one every `app.health.INTERVAL_HEALTHY`), and then restarted by its policy.
LIVENESS_FAILURES: Final = 3


@dataclass(frozen=True, kw_only=True)
class Setback:
    """The last action for a service failed: why, whether that passes by itself, how many
    failures in a row (`streak`, for the backoff), how many times in a row this same
    terminal failure (`repeats`), and when the planner may try again. The error's type
    says how many repeats make it believed (`ReconcilerError.believed_after`)."""

    message: str
    retryable: bool
    streak: int
    repeats: int
    retry_at: datetime
    believed_after: int = 1  # repeats after which this failure is believed (by its type)

    @property
    def stuck(self) -> bool:
        """Trying again gives the same answer: only a change (or a reset) helps."""
        return not self.retryable and self.repeats >= self.believed_after


@dataclass(frozen=True, kw_only=True)
class ServiceKnowledge:
    health: Health = Health.NONE
    probe: ProbeResult | None = None  # the last health check's result
    healthy_once: bool = False  # passed a check since it was last started
    failed_checks: int = 0  # failed checks in a row
    # When a service that had been healthy failed LIVENESS_FAILURES checks in a row: the
    # liveness failure its restart policy answers (None: there is none).
    unhealthy_since: datetime | None = None
    activity: Activity | None = None  # work in flight
    setback: Setback | None = None  # the last action's failure, cleared by a success
    since: datetime | None = None  # when this process started it
    observed: bool = False  # its unit was seen: a missing unit now is drift


class KnowledgeBook:
    """The engine's knowledge of every service, updated field by field."""

    def __init__(self) -> None:
        self._entries: dict[ServiceName, ServiceKnowledge] = {}

    def get(self, name: ServiceName) -> ServiceKnowledge:
        return self._entries.get(name, ServiceKnowledge())

    def update(self, name: ServiceName, **changes: object) -> None:
        self._entries[name] = replace(self.get(name), **changes)  # type: ignore[arg-type]

    def view(self) -> Mapping[ServiceName, ServiceKnowledge]:
        return MappingProxyType(dict(self._entries))
