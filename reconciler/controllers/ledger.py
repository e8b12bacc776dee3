"""The planner's ledger: what one pass has decided so far, and the words for writing it.

Services are planned dependencies first (`ordering.dependency_order`), so when a service
is planned the statuses of what it REQUIRES or comes AFTER are already in the ledger; the
ledger answers "what does this service wait for" from them (`blocker`). Every decision
ends in exactly one status per service (`decide`, `act`, `blocked`, `gave_up`,
`still_running`), plus the actions planned and the times to look again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Final

from reconciler.controllers.actions import Action, ExitNote, Record, Remove, Start, verb
from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.controllers.ordering import stop_timeout
from reconciler.controllers.plan import PlanInputs
from reconciler.controllers.statuses import Decision, service_status
from reconciler.model import labels
from reconciler.model.desired import DesiredService, ServiceName
from reconciler.model.observed import ObservedUnit
from reconciler.model.status import (
    Blocker,
    Drift,
    Health,
    Outlook,
    Relation,
    ServiceState,
    ServiceStatus,
)

# The labels that clear a `failed` service's state and start-limit window (`apply`).
RESET_FAILED: Final[Mapping[str, str | None]] = MappingProxyType(
    {labels.FAILED: None, labels.RECENT_STARTS: ""}
)
STARTED_STATES: Final = frozenset(
    {
        ServiceState.RUNNING,
        ServiceState.COMPLETED,
        ServiceState.EXITED,
        ServiceState.FAILED,
        ServiceState.BACKOFF,
        ServiceState.DISABLED,
    }
)


class PlanLedger:
    def __init__(self, inputs: PlanInputs) -> None:
        self.inputs = inputs
        self.actions: list[Action] = []
        self.statuses: dict[str, ServiceStatus] = {}
        self.requeue_at: dict[ServiceName, datetime] = {}
        self.project = inputs.desired.project
        self.units: dict[str, ObservedUnit] = {}
        for unit in inputs.observed.units:
            if unit.project == self.project:
                self.units.setdefault(unit.service, unit)

    def knowledge(self, name: str) -> ServiceKnowledge:
        return self.inputs.knowledge.get(ServiceName(name), ServiceKnowledge())

    def decide(self, service: DesiredService, decision: Decision) -> None:
        self.statuses[service.name] = service_status(
            service,
            decision,
            unit=self.units.get(service.name),
            knowledge=self.knowledge(service.name),
        )

    def act(self, service: DesiredService, action: Action, **decision: object) -> None:
        """Plan `action` for `service`: it is `pending` with the action planned (or
        `blocked` with drift noted, when a dependency is not ready yet)."""
        self.actions.append(action)
        fields: dict[str, object] = {"reason": action.cause, **decision}
        self.decide(
            service,
            Decision(
                state=ServiceState.PENDING,
                outlook=Outlook.PROGRESSING,
                planned=verb(action),
                **fields,  # type: ignore[arg-type]
            ),
        )

    # -- readiness of dependencies -------------------------------------------------

    def blocker(self, service: DesiredService) -> Blocker | None:
        """What `service` waits for, or None. Its dependencies were planned first
        (`dependency_order`), so their statuses are known."""
        for name in service.requires:
            target = self.inputs.desired.service(name)
            if target is None:
                return Blocker(
                    on=name,
                    relation=Relation.REQUIRES,
                    state=None,
                    missing=True,
                    outlook=Outlook.STUCK,
                )
            status = self.statuses.get(name)
            if status is None or not _ready(target, status):
                return _blocker(name, Relation.REQUIRES, status)
        for name in service.after:
            target = self.inputs.desired.service(name)
            if target is None or target.disabled:
                continue
            status = self.statuses.get(name)
            if status is None or status.state not in STARTED_STATES:
                return _blocker(name, Relation.AFTER, status)
        return None

    def blocked(self, service: DesiredService, blocker: Blocker, drift: Drift | None) -> None:
        self.decide(
            service,
            Decision(
                state=ServiceState.BLOCKED,
                outlook=blocker.outlook,
                reason=str(blocker),
                blocker=blocker,
                drift=drift,
            ),
        )

    def start_unless_blocked(self, service: DesiredService, start: Start) -> None:
        """Start the service again, or, while what it waits for is not ready, be `blocked`."""
        if (blocker := self.blocker(service)) is not None:
            self.blocked(service, blocker, None)
            return
        self.act(service, start)

    # -- what a decision writes down -------------------------------------------------

    def still_running(
        self, service: DesiredService, outlook: Outlook, reason: str, since: datetime | None
    ) -> None:
        self.decide(
            service,
            Decision(state=ServiceState.RUNNING, outlook=outlook, reason=reason, since=since),
        )

    def gave_up(self, service: DesiredService, reason: str, since: datetime | None) -> None:
        self.decide(
            service,
            Decision(state=ServiceState.FAILED, outlook=Outlook.STUCK, reason=reason, since=since),
        )

    def started_at(self, unit: ObservedUnit) -> datetime | None:
        text = unit.labels.get(labels.STARTED_AT)
        try:
            return datetime.fromisoformat(text) if text else unit.created_at
        except ValueError:
            return unit.created_at

    def record(
        self,
        unit: ObservedUnit,
        changes: Mapping[str, str | None],
        cause: str,
        *,
        note: ExitNote | None = None,
    ) -> None:
        self.actions.append(
            Record(
                service=ServiceName(unit.service),
                unit_id=unit.id,
                mode=unit.mode,
                labels=MappingProxyType(dict(changes)),
                cause=cause,
                exit=note,
            )
        )

    def remove(self, unit: ObservedUnit, service: DesiredService | None, cause: str) -> Remove:
        grace = service.timeout_stop if service is not None else stop_timeout(unit)
        return Remove(
            unit_id=unit.id, mode=unit.mode, cause=cause, service=unit.service, grace=grace
        )


def _ready(target: DesiredService, status: ServiceStatus) -> bool:
    if target.oneshot:
        return status.state is ServiceState.COMPLETED
    if status.state is not ServiceState.RUNNING:
        return False
    return target.healthcheck is None or status.health is Health.HEALTHY


def _blocker(name: str, relation: Relation, status: ServiceStatus | None) -> Blocker:
    if status is None:  # a dependency cycle: validation refuses them, stay safe anyway
        return Blocker(on=name, relation=relation, state=None, outlook=Outlook.STUCK)
    outlook = Outlook.PROGRESSING if status.outlook is Outlook.SETTLED else status.outlook
    if status.state is ServiceState.DISABLED:
        outlook = Outlook.STUCK
    return Blocker(
        on=name, relation=relation, state=status.state, health=status.health, outlook=outlook
    )
