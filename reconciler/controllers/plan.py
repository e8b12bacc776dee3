"""What the planner is given and what it gives back; `planner.plan` is the function.

`PlanInputs` is one pass's whole world: the desired stack, what the runtimes showed, the
time, the inputs gathered per service (a fingerprint, a missing image, or a problem), the
engine's knowledge of work in flight, and what the caller asked for (`apply` resets
failed services, `restart` recreates). `Plan` is the answer: the actions, one status per
service, and when each waiting service should be looked at again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from reconciler.controllers.actions import Action
from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.model.desired import DesiredStack, ServiceName
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ImageMissing
from reconciler.model.observed import Observed
from reconciler.model.status import Outlook, ServiceStatus


@dataclass(frozen=True, kw_only=True)
class ServiceProblem:
    """The service's inputs could not be gathered (a missing ENV_FILE, a failed pull);
    `retryable` when the cause passes by itself (a registry that is down)."""

    message: str
    retryable: bool = False


Inputs = Fingerprint | ImageMissing | ServiceProblem


def _no_inputs() -> Mapping[ServiceName, Inputs]:
    return MappingProxyType({})


def _no_knowledge() -> Mapping[ServiceName, ServiceKnowledge]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class PlanInputs:
    desired: DesiredStack
    observed: Observed
    now: datetime
    # What was gathered per service: its fingerprint, a missing image, or a problem.
    gathered: Mapping[ServiceName, Inputs] = field(default_factory=_no_inputs)
    knowledge: Mapping[ServiceName, ServiceKnowledge] = field(default_factory=_no_knowledge)
    # Services whose `failed` state and start-limit window start over (`apply`, `restart`).
    reset_failed: frozenset[ServiceName] = frozenset()
    # Services to recreate now whatever their state (`restart`).
    recreate: frozenset[ServiceName] = frozenset()
    # The first pass of an `apply` or `run`: `RECREATE always` services are recreated.
    recreate_always: bool = False


@dataclass(frozen=True, kw_only=True)
class Plan:
    actions: tuple[Action, ...]
    statuses: tuple[ServiceStatus, ...]
    requeue_at: Mapping[ServiceName, datetime]

    @property
    def converged(self) -> bool:
        """Nothing to do and nothing on its way: every service where it should be."""
        return not self.actions and all(s.outlook is Outlook.SETTLED for s in self.statuses)

    @property
    def progressing(self) -> bool:
        """Some service is on its way by itself: a plain `apply` keeps going for it."""
        return any(s.outlook is Outlook.PROGRESSING for s in self.statuses)

    @property
    def stuck(self) -> tuple[ServiceStatus, ...]:
        """Services that will not get where they should without a change."""
        return tuple(s for s in self.statuses if s.outlook is Outlook.STUCK)
