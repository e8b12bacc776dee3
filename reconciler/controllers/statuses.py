"""One service's status, assembled from what the planner decided and what is known.

Why this exists: the planner decides a state, an outlook and a reason; the rest of a
status (health and the last check's result, pid, restarts, exit code, image, the work
in flight, the last error) is read off the observation, the unit's bookkeeping labels and
the engine's knowledge the same way whatever was decided. Keeping that here leaves the
planner with decisions only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.controllers.restart import Bookkeeping
from reconciler.model.desired import DesiredService, image_text
from reconciler.model.observed import ObservedTask, ObservedUnit, TaskPhase
from reconciler.model.status import (
    Blocker,
    DesiredState,
    Drift,
    Health,
    Outlook,
    ServiceState,
    ServiceStatus,
    Verb,
)


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What the planner concluded for a service."""

    state: ServiceState
    outlook: Outlook
    reason: str | None = None
    drift: Drift | None = None
    blocker: Blocker | None = None
    planned: Verb | None = None
    since: datetime | None = None
    backoff_until: datetime | None = None


def desired_state(service: DesiredService) -> DesiredState:
    if service.disabled:
        return DesiredState.DISABLED
    return DesiredState.COMPLETED if service.oneshot else DesiredState.RUNNING


def service_status(
    service: DesiredService,
    decision: Decision,
    *,
    unit: ObservedUnit | None,
    knowledge: ServiceKnowledge,
) -> ServiceStatus:
    book = Bookkeeping.from_labels(unit.labels) if unit else Bookkeeping()
    task = unit.task if unit else None
    stopped = task is not None and task.phase is TaskPhase.STOPPED
    setback = knowledge.setback
    reason = decision.reason
    if reason is None and setback is not None:
        reason = setback.message
    return ServiceStatus(
        name=service.name,
        mode=service.mode,
        desired=desired_state(service),
        state=decision.state,
        outlook=decision.outlook,
        health=health_of(service, knowledge, task),
        health_detail=knowledge.probe.detail if knowledge.probe is not None else None,
        pid=task.pid if task and task.phase is TaskPhase.RUNNING else None,
        restarts=book.restart_count,
        exit_code=task.exit_code if task else book.last_exit_code,
        oom_killed=stopped and task is not None and task.oom_killed,
        image=image_text(service.image),
        drift=decision.drift,
        reason=reason,
        since=decision.since or knowledge.since,
        blocker=decision.blocker,
        planned=decision.planned,
        activity=knowledge.activity,
        backoff_until=decision.backoff_until,
        last_error=setback.message if setback is not None else None,
    )


def health_of(
    service: DesiredService, knowledge: ServiceKnowledge, task: ObservedTask | None
) -> Health:
    """NONE without a HEALTHCHECK or a running process; a running process not checked
    yet is STARTING."""
    if service.healthcheck is None:
        return Health.NONE
    running = task is not None and task.phase is TaskPhase.RUNNING
    if not running:
        return Health.NONE
    return Health.STARTING if knowledge.health is Health.NONE else knowledge.health
