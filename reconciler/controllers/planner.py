"""plan(): from desired and observed state to the actions that close the gap. Pure.

For every desired service, dependencies first (statuses still come out in file order),
the planner looks at its unit (found by the `orch.service` label, never by memory) and
decides one thing:

- its runtime cannot be asked: nothing; `pending` until it answers.
- work in flight (the engine's knowledge): nothing new; the step it is at.
- disabled: remove a unit if there is one; state `disabled`.
- no unit: create it, once every REQUIRES is ready (running and healthy; oneshots:
  completed) and every existing AFTER target has been started; else `blocked`. A unit
  the engine had seen before and is gone now is `container-missing` drift.
- a unit whose config hash differs: recreate it, naming what changed; `RECREATE always`
  recreates on the first pass of an `apply`; `restart` recreates on request.
- no task: start it (`task-missing` drift); a created-but-never-started task: start it.
- an exited task: the restart policy decides (restart now, back off until a time,
  give up as `failed`, stay `exited`, or `completed` for a successful oneshot), and the
  decision's bookkeeping is recorded in the unit's labels.
Units of the project that no desired service accounts for are removed as orphans.

A service the planner acts on is `pending` with the action `planned`; the states of work
under way (`pulling`, `creating`, `starting`, `stopping`) come only from the engine's
knowledge of work really in flight. Every status carries a typed `Outlook` (is the
service settled, on its way, waiting, or stuck without a change) and, when blocked, the
typed `Blocker`; its `reason` is the same story in words, for people.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final

from reconciler.controllers.actions import Create, Recreate, Reload, Start
from reconciler.controllers.binding import restarted_requirements
from reconciler.controllers.exits import plan_exit, plan_liveness, plan_rebind
from reconciler.controllers.fingerprint import describe_change
from reconciler.controllers.knowledge import LIVENESS_FAILURES, ServiceKnowledge
from reconciler.controllers.ledger import RESET_FAILED, PlanLedger
from reconciler.controllers.ordering import dependency_order
from reconciler.controllers.plan import Inputs, Plan, PlanInputs, ServiceProblem
from reconciler.controllers.restart import Bookkeeping
from reconciler.controllers.statuses import Decision
from reconciler.model import labels
from reconciler.model.desired import DesiredService, ServiceMode
from reconciler.model.fingerprint import Fingerprint, changed_parts, parse_parts_label
from reconciler.model.inputs import ImageMissing
from reconciler.model.observed import ObservedUnit, TaskPhase
from reconciler.model.status import Drift, Health, Outlook, ServiceState


@dataclass(frozen=True, kw_only=True)
class _Recreation:
    """Why a unit is recreated: the action's cause (plan, log), the drift it is, and the
    status's reason, which does not repeat the drift's own words."""

    cause: str
    drift: Drift | None
    reason: str


_RUNTIME_NAMES: Final = {ServiceMode.CONTAINER: "containerd", ServiceMode.HOST: "host runtime"}


def plan(inputs: PlanInputs) -> Plan:
    planner = _Planner(inputs)
    for service in dependency_order(inputs.desired):
        planner.plan_service(service)
    planner.plan_orphans()
    return Plan(
        actions=tuple(planner.actions),
        statuses=tuple(planner.statuses[s.name] for s in inputs.desired.services),
        requeue_at=MappingProxyType(planner.requeue_at),
    )


class _Planner(PlanLedger):
    """The main path of one service: reachable, in flight, disabled, inputs, unit,
    config, task. What happens after an exit or a failed liveness check is in `exits`."""

    def plan_service(self, service: DesiredService) -> None:
        unit = self.units.get(service.name)
        knowledge = self.knowledge(service.name)
        unreachable = self.inputs.observed.unreachable.get(service.mode)
        if unreachable is not None:
            why = f"{_RUNTIME_NAMES[service.mode]} unreachable: {unreachable}"
            self.decide(
                service,
                Decision(state=ServiceState.PENDING, outlook=Outlook.PROGRESSING, reason=why),
            )
            return
        if self.held_back(service, knowledge):
            return
        if knowledge.activity is not None:
            activity = knowledge.activity
            self.decide(
                service,
                Decision(
                    state=activity.step,
                    outlook=Outlook.PROGRESSING,
                    reason=f"{activity.verb.value}: {activity.cause}",
                ),
            )
            return
        if service.disabled:
            if unit is not None:
                self.act(service, self.remove(unit, service, "DISABLED"))
            else:
                self.decide(service, Decision(state=ServiceState.DISABLED, outlook=Outlook.SETTLED))
            return
        gathered = self.inputs.gathered.get(service.name)
        if isinstance(gathered, ServiceProblem):
            self.decide(
                service,
                Decision(
                    state=ServiceState.PENDING if gathered.retryable else ServiceState.FAILED,
                    outlook=Outlook.PROGRESSING if gathered.retryable else Outlook.STUCK,
                    reason=gathered.message,
                ),
            )
            return
        if unit is None:
            self.plan_missing(service, gathered)
            return
        if self.reloadable(service, unit, gathered):
            detail = self.change_detail(unit, gathered)
            self.act(
                service,
                Reload(
                    service=service.name,
                    unit_id=unit.id,
                    mode=unit.mode,
                    cause=f"config changed ({detail}); RELOAD",
                ),
                drift=Drift.CONFIG_CHANGED,
                reason=f"{detail} changed; RELOAD",
            )
            return
        if (recreation := self.drift(service, unit, gathered)) is not None:
            if (blocker := self.blocker(service)) is not None:
                self.blocked(service, blocker, recreation.drift)
                return
            self.act(
                service,
                Recreate(
                    service=service.name,
                    unit_id=unit.id,
                    mode=unit.mode,
                    cause=recreation.cause,
                ),
                drift=recreation.drift,
                reason=recreation.reason,
            )
            return
        self.plan_task(service, unit)

    def held_back(self, service: DesiredService, knowledge: ServiceKnowledge) -> bool:
        """The last action failed: wait for its retry (on its way by itself), or, for a
        terminal failure that repeated, stay `failed` until a reset or a change. (`run`
        still retries those, with the backoff capped at 5 minutes.)"""
        setback = knowledge.setback
        if setback is None or knowledge.activity is not None:
            return False
        if service.name in self.inputs.reset_failed or setback.retry_at <= self.inputs.now:
            return False
        self.requeue_at[service.name] = setback.retry_at
        left = (setback.retry_at - self.inputs.now).total_seconds()
        self.decide(
            service,
            Decision(
                state=ServiceState.FAILED if setback.stuck else ServiceState.PENDING,
                outlook=Outlook.STUCK if setback.stuck else Outlook.PROGRESSING,
                reason=setback.message
                if setback.stuck
                else f"{setback.message} (retrying in {left:.0f}s)",
            ),
        )
        return True

    def plan_missing(self, service: DesiredService, gathered: Inputs | None) -> None:
        seen_before = self.knowledge(service.name).observed
        drift = Drift.CONTAINER_MISSING if seen_before else None
        if (blocker := self.blocker(service)) is not None:
            self.blocked(service, blocker, drift)
            return
        cause = "deleted outside the reconciler" if seen_before else "not created yet"
        self.act(service, Create(service=service.name, cause=cause), drift=drift)

    def reloadable(
        self, service: DesiredService, unit: ObservedUnit, gathered: Inputs | None
    ) -> bool:
        """A running host service with RELOAD whose change is only the content of its
        ENV_FILEs: that is what a process can re-read when told to reload."""
        if service.reload_command is None or unit.mode is not ServiceMode.HOST:
            return False
        if unit.task is None or unit.task.phase is not TaskPhase.RUNNING:
            return False
        if not isinstance(gathered, Fingerprint) or unit.config_hash == gathered.config_hash:
            return False
        old = parse_parts_label(unit.labels.get(labels.CONFIG_PARTS, ""))
        changed = changed_parts(old, gathered.parts) if old else []
        return bool(changed) and all(name.startswith("env_file.") for name in changed)

    def change_detail(self, unit: ObservedUnit, gathered: Inputs | None) -> str:
        assert isinstance(gathered, Fingerprint)
        old = parse_parts_label(unit.labels.get(labels.CONFIG_PARTS, ""))
        return describe_change(changed_parts(old, gathered.parts))

    def drift(
        self, service: DesiredService, unit: ObservedUnit, gathered: Inputs | None
    ) -> _Recreation | None:
        """Why the unit must be recreated, and the drift it is (None: a request)."""
        if isinstance(gathered, ImageMissing) and gathered.moved:
            return _Recreation(
                cause=f"image changed ({gathered.reference} names a new digest in its registry)",
                drift=Drift.IMAGE_CHANGED,
                reason="its reference resolves to a new digest",
            )
        if isinstance(gathered, ImageMissing):
            missing = f"image {gathered.reference} is not present"
            return _Recreation(cause=missing, drift=Drift.IMAGE_CHANGED, reason=missing)
        if isinstance(gathered, Fingerprint) and unit.config_hash != gathered.config_hash:
            old = parse_parts_label(unit.labels.get(labels.CONFIG_PARTS, ""))
            changed = changed_parts(old, gathered.parts) if old else []
            if changed == ["image"]:
                return _Recreation(
                    cause="image changed",
                    drift=Drift.IMAGE_CHANGED,
                    reason="its reference resolves to a new digest",
                )
            what = describe_change(changed)
            return _Recreation(
                cause=f"config changed ({what})" if changed else "config changed",
                drift=Drift.CONFIG_CHANGED,
                reason=f"{what} changed" if changed else "changed since it was created",
            )
        if service.name in self.inputs.recreate:
            return _Recreation(cause="restart requested", drift=None, reason="restart requested")
        if self.inputs.recreate_always and service.recreate_always:
            return _Recreation(
                cause="RECREATE always", drift=Drift.CONFIG_CHANGED, reason="RECREATE always"
            )
        return None

    def plan_task(self, service: DesiredService, unit: ObservedUnit) -> None:
        book = Bookkeeping.from_labels(unit.labels)
        config_hash = unit.config_hash
        failed = book.failed_hash == config_hash
        reset = failed and service.name in self.inputs.reset_failed
        if reset:
            # Like systemd's reset-failed: the start-limit window starts over too, or the
            # next exit would give up again at once.
            book = replace(book, failed_hash=None, recent_starts=())
            failed = False
        task = unit.task
        if reset and (task is None or task.phase is not TaskPhase.STOPPED):
            self.record(unit, RESET_FAILED, "the failed state is reset")
        if task is None or task.phase is TaskPhase.CREATED:
            if book.completed_hash == config_hash and service.oneshot:
                self.decide(
                    service, Decision(state=ServiceState.COMPLETED, outlook=Outlook.SETTLED)
                )
                return
            if failed:
                self.gave_up(service, "start limit reached", since=None)
                return
            drift = Drift.TASK_MISSING if task is None else None
            if (blocker := self.blocker(service)) is not None:
                self.blocked(service, blocker, drift)
                return
            cause = (
                "task deleted outside the reconciler" if task is None else "task not started yet"
            )
            self.act(
                service,
                Start(service=service.name, cause=cause, reset_starts=reset),
                drift=drift,
                reason="deleted outside the reconciler" if task is None else cause,
            )
            return
        if task.phase is TaskPhase.RUNNING:
            self.plan_running(service, unit)
            return
        if task.phase is not TaskPhase.STOPPED:
            self.decide(
                service,
                Decision(
                    state=ServiceState.PENDING,
                    outlook=Outlook.WAITING,
                    reason=f"task {task.phase.value}",
                ),
            )
            return
        plan_exit(self, service, unit, book, failed=failed, reset=reset)

    def plan_running(self, service: DesiredService, unit: ObservedUnit) -> None:
        since = self.started_at(unit)
        knowledge = self.knowledge(service.name)
        if not service.oneshot and knowledge.unhealthy_since is not None:
            plan_liveness(self, service, unit, knowledge, since)
            return
        if not service.oneshot and (gone := restarted_requirements(service, unit, self.units)):
            plan_rebind(self, service, gone, since)
            return
        if service.oneshot:
            outlook = Outlook.PROGRESSING  # what REQUIRES it waits for its completion
            reason: str | None = "running to completion"
        else:
            outlook, reason = _running_outlook(service, knowledge.health)
            if reason is not None and knowledge.probe is not None:
                reason = f"{reason}: {knowledge.probe.detail}"
            elif knowledge.failed_checks and knowledge.probe is not None:
                reason = (
                    f"{knowledge.failed_checks} of {LIVENESS_FAILURES} checks failed: "
                    f"{knowledge.probe.detail}"
                )
        self.decide(
            service,
            Decision(state=ServiceState.RUNNING, outlook=outlook, reason=reason, since=since),
        )

    # -- orphans -------------------------------------------------------------------

    def plan_orphans(self) -> None:
        desired = {s.name for s in self.inputs.desired.services}
        for unit in self.inputs.observed.units:
            if unit.project == self.project and unit.service not in desired:
                self.actions.append(self.remove(unit, None, "not in the Orchfile"))


def _running_outlook(service: DesiredService, health: Health) -> tuple[Outlook, str | None]:
    if service.healthcheck is None:
        return Outlook.SETTLED, None
    match health:
        case Health.HEALTHY:
            return Outlook.SETTLED, None
        case Health.UNHEALTHY:
            return Outlook.WAITING, "unhealthy"
        case Health.STARTING | Health.NONE:
            return Outlook.PROGRESSING, "health check not passed yet"
