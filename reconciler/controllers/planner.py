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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

from reconciler.controllers.actions import (
    Action,
    Create,
    ExitNote,
    Record,
    Recreate,
    Reload,
    Remove,
    Start,
    verb,
)
from reconciler.controllers.binding import restarted_requirements
from reconciler.controllers.fingerprint import describe_change
from reconciler.controllers.knowledge import LIVENESS_FAILURES, ServiceKnowledge
from reconciler.controllers.restart import (
    Bookkeeping,
    Completed,
    GiveUp,
    RestartAt,
    StayExited,
    decide_after_exit,
    exit_id,
)
from reconciler.controllers.statuses import Decision, service_status
from reconciler.model import labels
from reconciler.model.desired import (
    DesiredService,
    DesiredStack,
    Restart,
    ServiceMode,
    ServiceName,
)
from reconciler.model.fingerprint import Fingerprint, changed_parts, parse_parts_label
from reconciler.model.inputs import ImageMissing
from reconciler.model.journal import ExitOutcome
from reconciler.model.observed import Observed, ObservedUnit, TaskPhase
from reconciler.model.status import (
    Blocker,
    Drift,
    Health,
    Outlook,
    Relation,
    ServiceState,
    ServiceStatus,
)


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
class _Recreation:
    """Why a unit is recreated: the action's cause (plan, log), the drift it is, and the
    status's reason, which does not repeat the drift's own words."""

    cause: str
    drift: Drift | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class PlanInputs:
    desired: DesiredStack
    observed: Observed
    now: datetime
    inputs: Mapping[ServiceName, Inputs] = field(default_factory=_no_inputs)
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


_RESET_FAILED: Final[Mapping[str, str | None]] = MappingProxyType(
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


def dependency_order(desired: DesiredStack) -> list[DesiredService]:
    """Services with what they REQUIRE or come AFTER first, else in file order: a
    service's readiness is known when its dependents are planned, wherever it is written."""
    ordered: list[DesiredService] = []
    visiting: set[str] = set()

    def visit(service: DesiredService) -> None:
        if service.name in visiting:
            return
        visiting.add(service.name)
        for name in (*service.requires, *service.after):
            if (target := desired.service(name)) is not None:
                visit(target)
        ordered.append(service)

    for service in desired.services:
        visit(service)
    return ordered


class _Planner:
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

    # -- one service ---------------------------------------------------------------

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
        gathered = self.inputs.inputs.get(service.name)
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
            self.record(unit, _RESET_FAILED, "the failed state is reset")
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
        self.plan_exit(service, unit, book, failed=failed, reset=reset)

    def plan_running(self, service: DesiredService, unit: ObservedUnit) -> None:
        since = self.started_at(unit)
        knowledge = self.knowledge(service.name)
        if not service.oneshot and knowledge.unhealthy_since is not None:
            self.plan_liveness(service, unit, knowledge, since)
            return
        if not service.oneshot and (gone := restarted_requirements(service, unit, self.units)):
            self.plan_rebind(service, gone, since)
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

    def plan_liveness(
        self,
        service: DesiredService,
        unit: ObservedUnit,
        knowledge: ServiceKnowledge,
        since: datetime | None,
    ) -> None:
        """A service that was healthy failed LIVENESS_FAILURES checks in a row: its
        restart policy answers, as for a crash (start limit, RESTART_DELAY)."""
        assert knowledge.unhealthy_since is not None
        detail = knowledge.probe.detail if knowledge.probe is not None else "failing"
        what = f"unhealthy for {knowledge.failed_checks} checks ({detail})"
        if service.restart.policy is Restart.NO:
            reason = f"{what}; not restarted ({_policy(service)})"
            self.still_running(service, Outlook.STUCK, reason, since)
            return
        book = Bookkeeping.from_labels(unit.labels)
        window_start = self.inputs.now - service.restart.start_limit_interval
        recent = [t for t in book.recent_starts if t >= window_start]
        if len(recent) >= service.restart.start_limit_burst:
            if book.failed_hash != unit.config_hash:
                self.record(unit, {labels.FAILED: unit.config_hash}, what)
            interval = _seconds(service.restart.start_limit_interval)
            self.gave_up(
                service, f"{what}; gave up after {len(recent)} starts within {interval}", since
            )
            return
        when = knowledge.unhealthy_since + service.restart.delay
        if when > self.inputs.now:
            self.requeue_at[service.name] = when
            left = (when - self.inputs.now).total_seconds()
            self.still_running(
                service, Outlook.WAITING, f"{what}; restarting in {left:.1f}s", since
            )
            return
        if (blocker := self.blocker(service)) is not None:
            self.blocked(service, blocker, None)
            return
        cause = f"{what} ({_policy(service)})"
        self.act(
            service,
            Start(service=service.name, cause=cause, is_restart=True, stop_first=True),
        )

    def plan_rebind(
        self, service: DesiredService, restarted: list[str], since: datetime | None
    ) -> None:
        """What the service REQUIRES was started again: restart it after them, once they
        are ready (BindsTo); until then it keeps running."""
        names = ", ".join(restarted)
        cause = f"{names} {'was' if len(restarted) == 1 else 'were'} restarted"
        if self.blocker(service) is not None:
            self.still_running(
                service, Outlook.PROGRESSING, f"{cause}; restarting once ready", since
            )
            return
        self.act(
            service,
            Start(service=service.name, cause=cause, is_restart=True, stop_first=True),
        )

    def still_running(
        self, service: DesiredService, outlook: Outlook, reason: str, since: datetime | None
    ) -> None:
        self.decide(
            service,
            Decision(state=ServiceState.RUNNING, outlook=outlook, reason=reason, since=since),
        )

    def started_at(self, unit: ObservedUnit) -> datetime | None:
        text = unit.labels.get(labels.STARTED_AT)
        try:
            return datetime.fromisoformat(text) if text else unit.created_at
        except ValueError:
            return unit.created_at

    def gave_up(self, service: DesiredService, reason: str, since: datetime | None) -> None:
        self.decide(
            service,
            Decision(state=ServiceState.FAILED, outlook=Outlook.STUCK, reason=reason, since=since),
        )

    def plan_exit(
        self,
        service: DesiredService,
        unit: ObservedUnit,
        book: Bookkeeping,
        *,
        failed: bool,
        reset: bool,
    ) -> None:
        task = unit.task
        assert task is not None
        assert task.exit_code is not None
        # containerd gives every stopped task its exit time; the start time stands in for
        # a runtime that does not, so the same exit is recognised pass after pass.
        exited_at = task.exited_at or self.started_at(unit) or self.inputs.now
        how = "oom-killed" if task.oom_killed else f"exit code {task.exit_code}"
        if failed:
            self.gave_up(service, f"start limit reached (last: {how})", since=exited_at)
            return
        decision, after = decide_after_exit(
            service,
            book,
            exit_code=task.exit_code,
            exited_at=exited_at,
            started_at=self.started_at(unit),
            config_hash=unit.config_hash,
            seen_as=exit_id(task.pid, task.exited_at),
        )
        recorded = {**after.exit_labels(), **(_RESET_FAILED if reset else {})}
        note = _exit_note(decision, task.exit_code, task.oom_killed, service, self.inputs.now)
        if any(unit.labels.get(k) != v for k, v in recorded.items()):
            self.record(unit, recorded, how, note=note)
        match decision:
            case Completed():
                self.decide(
                    service,
                    Decision(
                        state=ServiceState.COMPLETED, outlook=Outlook.SETTLED, since=exited_at
                    ),
                )
            case StayExited():
                self.decide(
                    service,
                    Decision(
                        state=ServiceState.EXITED,
                        outlook=Outlook.STUCK,
                        since=exited_at,
                        reason=f"{how}; not restarted ({_policy(service)})",
                    ),
                )
            case GiveUp(starts=starts):
                interval = service.restart.start_limit_interval
                self.gave_up(
                    service,
                    f"{how}; gave up after {starts} starts within {_seconds(interval)}",
                    since=exited_at,
                )
            case RestartAt():
                self.plan_restart(service, decision, how, exited_at, reset)

    def plan_restart(
        self, service: DesiredService, due: RestartAt, how: str, exited_at: datetime, reset: bool
    ) -> None:
        when, delay = due.when, due.delay
        if when > self.inputs.now:
            self.requeue_at[service.name] = when
            left = (when - self.inputs.now).total_seconds()
            self.decide(
                service,
                Decision(
                    state=ServiceState.BACKOFF,
                    outlook=Outlook.WAITING,
                    since=exited_at,
                    backoff_until=when,
                    reason=f"{how}; restarting in {left:.1f}s (delay {_seconds(delay)})",
                ),
            )
            return
        if (blocker := self.blocker(service)) is not None:
            self.blocked(service, blocker, None)
            return
        cause = f"{how} ({_policy(service)})"
        self.act(
            service,
            Start(service=service.name, cause=cause, is_restart=True, reset_starts=reset),
        )

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

    # -- orphans -------------------------------------------------------------------

    def plan_orphans(self) -> None:
        desired = {s.name for s in self.inputs.desired.services}
        for unit in self.inputs.observed.units:
            if unit.project == self.project and unit.service not in desired:
                self.actions.append(self.remove(unit, None, "not in the Orchfile"))


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


def _exit_note(
    decision: Completed | StayExited | GiveUp | RestartAt,
    code: int,
    oom: bool,
    service: DesiredService,
    now: datetime,
) -> ExitNote:
    match decision:
        case Completed():
            return ExitNote(exit_code=code, oom_killed=oom, outcome=ExitOutcome.COMPLETED)
        case StayExited():
            return ExitNote(exit_code=code, oom_killed=oom, outcome=ExitOutcome.STAY)
        case GiveUp(starts=starts):
            return ExitNote(
                exit_code=code,
                oom_killed=oom,
                outcome=ExitOutcome.GAVE_UP,
                starts=starts,
                interval=service.restart.start_limit_interval,
            )
        case RestartAt(when=when, delay=delay):
            later = when > now
            return ExitNote(
                exit_code=code,
                oom_killed=oom,
                outcome=ExitOutcome.BACKOFF if later else ExitOutcome.RESTART,
                delay=delay if later else None,
            )


def _policy(service: DesiredService) -> str:
    return f"RESTART {service.restart.policy.value}"


def _seconds(span: timedelta) -> str:
    return f"{span.total_seconds():g}s"


def stop_timeout(unit: ObservedUnit) -> timedelta | None:
    """The TIMEOUT_STOP a unit was created with, from its label."""
    try:
        return timedelta(seconds=float(unit.labels.get(labels.STOP_TIMEOUT, "")))
    except ValueError:
        return None


def teardown_waves(desired: DesiredStack, observed: Observed) -> list[list[ObservedUnit]]:
    """The project's units in the order `down` stops them: dependents before what they
    require, units of services no longer desired first."""
    units = [u for u in observed.units if u.project == desired.project]
    remaining = {u.service: u for u in units}
    waves: list[list[ObservedUnit]] = []
    while remaining:
        needed = {
            dep
            for name in remaining
            if (svc := desired.service(name)) is not None
            for dep in (*svc.requires, *svc.after)
        }
        wave = [u for name, u in remaining.items() if name not in needed] or list(
            remaining.values()
        )
        waves.append(wave)
        for unit in wave:
            remaining.pop(unit.service, None)
    return waves
