"""plan(): from desired and observed state to the actions that close the gap. Pure.

For every desired service, dependencies first (statuses still come out in file order),
the planner looks at its unit (found by the `orch.service` label, never by memory) and
decides one thing:

- disabled: remove a unit if there is one; state `disabled`.
- no unit: create it, once every REQUIRES is ready (running and healthy; oneshots:
  completed) and every existing AFTER target has been started; else `blocked`. A unit
  the engine had seen before and is gone now is `container-missing` drift.
- a unit whose config hash differs: recreate it, naming what changed; `RECREATE always`
  recreates on the first pass of an `apply`.
- no task: start it (`task-missing` drift); a created-but-never-started task: start it.
- an exited task: the restart policy decides (restart now, back off until a time,
  give up as `failed`, stay `exited`, or `completed` for a successful oneshot), and the
  decision's bookkeeping is recorded in the unit's labels.
Units of the project that no desired service accounts for are removed as orphans.

Every status carries the reason a user needs (`blocked: waiting for db (unhealthy)`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from reconciler.controllers.actions import (
    Action,
    Create,
    Record,
    Recreate,
    Reload,
    Remove,
    Start,
)
from reconciler.controllers.fingerprint import describe_change
from reconciler.controllers.restart import (
    Bookkeeping,
    Completed,
    GiveUp,
    RestartAt,
    StayExited,
    decide_after_exit,
    exit_id,
)
from reconciler.model import labels
from reconciler.model.desired import DesiredService, DesiredStack, ServiceMode, ServiceName
from reconciler.model.fingerprint import Fingerprint, changed_parts, parse_parts_label
from reconciler.model.inputs import ImageMissing
from reconciler.model.observed import Observed, ObservedTask, ObservedUnit, TaskPhase
from reconciler.model.status import Drift, Health, ServiceState, ServiceStatus


@dataclass(frozen=True, kw_only=True)
class ServiceProblem:
    """The service's inputs could not be gathered (a missing ENV_FILE, a failed pull)."""

    message: str


Inputs = Fingerprint | ImageMissing | ServiceProblem


@dataclass(frozen=True, kw_only=True)
class ServiceRuntime:
    """What the engine knows that containerd does not: health, work in flight, and
    whether it has seen the service's unit (so that its absence now is drift)."""

    health: Health = Health.NONE
    busy: ServiceState | None = None
    error: str | None = None
    since: datetime | None = None
    observed: bool = False


def _no_inputs() -> Mapping[ServiceName, Inputs]:
    return MappingProxyType({})


def _no_runtime() -> Mapping[ServiceName, ServiceRuntime]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class PlanInputs:
    desired: DesiredStack
    observed: Observed
    now: datetime
    inputs: Mapping[ServiceName, Inputs] = field(default_factory=_no_inputs)
    runtime: Mapping[ServiceName, ServiceRuntime] = field(default_factory=_no_runtime)
    reset_failed: bool = False
    recreate_always: bool = False


@dataclass(frozen=True, kw_only=True)
class Plan:
    actions: tuple[Action, ...]
    statuses: tuple[ServiceStatus, ...]
    requeue_at: Mapping[ServiceName, datetime]

    @property
    def converged(self) -> bool:
        """Nothing to do and nothing on its way: every service where it should be."""
        return not self.actions and all(_settled(s) for s in self.statuses)


def _settled(status: ServiceStatus) -> bool:
    """Where the service should be: running and healthy, or a oneshot completed (a
    running oneshot is still on its way), or disabled."""
    if status.desired == "completed":
        return status.state is ServiceState.COMPLETED
    if status.desired == "disabled":
        return status.state is ServiceState.DISABLED
    return status.state is ServiceState.RUNNING and status.health in (Health.HEALTHY, Health.NONE)


_RESET_FAILED: Mapping[str, str | None] = MappingProxyType(
    {labels.FAILED: None, labels.RECENT_STARTS: ""}
)
READY_STATES = frozenset({ServiceState.RUNNING, ServiceState.COMPLETED})
STARTED_STATES = frozenset(
    {
        ServiceState.RUNNING,
        ServiceState.COMPLETED,
        ServiceState.EXITED,
        ServiceState.FAILED,
        ServiceState.BACKOFF,
        ServiceState.DISABLED,
    }
)


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

    def unit_of(self, name: str) -> ObservedUnit | None:
        units = [u for u in self.inputs.observed.of_service(name) if u.project == self.project]
        return units[0] if units else None

    def status(self, service: DesiredService, state: ServiceState, **fields: object) -> None:
        runtime = self.inputs.runtime.get(service.name, ServiceRuntime())
        unit = self.unit_of(service.name)
        book = Bookkeeping.from_labels(unit.labels) if unit else Bookkeeping()
        task = unit.task if unit else None
        image = None
        if service.image is not None:
            image = getattr(service.image, "reference", None) or getattr(
                service.image, "written_as", None
            )
        values: dict[str, object] = {
            "name": service.name,
            "mode": service.mode.value,
            "desired": "disabled"
            if service.disabled
            else ("completed" if service.oneshot else "running"),
            "state": runtime.busy or state,
            "health": _health(service, runtime, task),
            "pid": task.pid if task and task.phase is TaskPhase.RUNNING else None,
            "restarts": book.restart_count,
            "exit_code": task.exit_code if task else book.last_exit_code,
            "image": image,
            "since": runtime.since,
        }
        if runtime.error and "reason" not in fields:
            values["reason"] = runtime.error
        values.update(fields)
        self.statuses[service.name] = ServiceStatus(**values)  # type: ignore[arg-type]

    # -- readiness of dependencies -------------------------------------------------

    def dependency_problem(self, service: DesiredService) -> str | None:
        """Why `service` may not start yet, or None. Its dependencies were planned first
        (`dependency_order`), so their status is known; the observation is the fallback."""
        for name in service.requires:
            if (reason := self.not_ready(name)) is not None:
                return f"waiting for {name} ({reason})"
        for name in service.after:
            target = self.inputs.desired.service(name)
            if target is None or target.disabled:
                continue
            state = self.known_state(name)
            if state not in STARTED_STATES:
                return f"after {name} ({state.value if state else 'not started'})"
        return None

    def known_state(self, name: str) -> ServiceState | None:
        status = self.statuses.get(name)
        if status is not None:
            return status.state
        unit = self.unit_of(name)
        if unit is None or unit.task is None:
            return None
        return ServiceState.RUNNING if unit.task.phase is TaskPhase.RUNNING else None

    def not_ready(self, name: str) -> str | None:
        target = self.inputs.desired.service(name)
        if target is None:
            return "not in the Orchfile"
        if target.disabled:
            return "disabled"
        status = self.statuses.get(name)
        if status is None:
            state = self.known_state(name)
            return (
                None
                if state is ServiceState.RUNNING and target.healthcheck is None
                else ("not started" if state is None else "not checked yet")
            )
        if target.oneshot:
            return None if status.state is ServiceState.COMPLETED else str(status.state.value)
        if status.state is not ServiceState.RUNNING:
            return str(status.state.value)
        if target.healthcheck is not None and status.health is not Health.HEALTHY:
            return str(status.health.value)
        return None

    # -- one service ---------------------------------------------------------------

    def plan_service(self, service: DesiredService) -> None:
        unit = self.unit_of(service.name)
        runtime = self.inputs.runtime.get(service.name, ServiceRuntime())
        if service.disabled:
            if unit is not None:
                self.remove(unit, service, "DISABLED")
                self.status(service, ServiceState.STOPPING)
            else:
                self.status(service, ServiceState.DISABLED)
            return
        if runtime.busy is not None:
            self.status(service, runtime.busy)
            return
        gathered = self.inputs.inputs.get(service.name)
        if isinstance(gathered, ServiceProblem):
            self.status(service, ServiceState.FAILED, reason=gathered.message)
            return
        if unit is None:
            self.plan_missing(service, gathered)
            return
        if self.reloadable(service, unit, gathered):
            cause = f"config changed ({self.change_detail(unit, gathered)}); RELOAD"
            self.actions.append(
                Reload(service=service.name, unit_id=unit.id, mode=unit.mode, cause=cause)
            )
            self.status(service, ServiceState.RUNNING, drift=Drift.CONFIG_CHANGED, reason=cause)
            return
        if (drift := self.drift(service, unit, gathered)) is not None:
            cause, kind = drift
            if (problem := self.dependency_problem(service)) is not None:
                self.status(service, ServiceState.BLOCKED, drift=kind, reason=problem)
                return
            self.actions.append(
                Recreate(service=service.name, unit_id=unit.id, mode=unit.mode, cause=cause)
            )
            self.status(service, ServiceState.CREATING, drift=kind, reason=cause)
            return
        self.plan_task(service, unit, gathered)

    def plan_missing(self, service: DesiredService, gathered: Inputs | None) -> None:
        if (problem := self.dependency_problem(service)) is not None:
            self.status(service, ServiceState.BLOCKED, reason=problem)
            return
        seen_before = self.inputs.runtime.get(service.name, ServiceRuntime()).observed
        cause = "container-missing" if seen_before else "not created yet"
        self.actions.append(Create(service=service.name, cause=cause))
        state = (
            ServiceState.PULLING if isinstance(gathered, ImageMissing) else ServiceState.CREATING
        )
        drift = Drift.CONTAINER_MISSING if seen_before else None
        self.status(service, state, reason=cause, drift=drift)

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
    ) -> tuple[str, Drift] | None:
        if isinstance(gathered, ImageMissing):
            return f"image {gathered.reference} is not present", Drift.IMAGE_CHANGED
        if isinstance(gathered, Fingerprint) and unit.config_hash != gathered.config_hash:
            old = parse_parts_label(unit.labels.get(labels.CONFIG_PARTS, ""))
            changed = changed_parts(old, gathered.parts) if old else []
            if changed == ["image"]:
                return "image changed", Drift.IMAGE_CHANGED
            detail = f" ({describe_change(changed)})" if changed else ""
            return f"config changed{detail}", Drift.CONFIG_CHANGED
        if self.inputs.recreate_always and service.recreate_always:
            return "RECREATE always", Drift.CONFIG_CHANGED
        return None

    def plan_task(
        self, service: DesiredService, unit: ObservedUnit, gathered: Inputs | None
    ) -> None:
        book = Bookkeeping.from_labels(unit.labels)
        config_hash = unit.config_hash
        failed = book.failed_hash == config_hash
        reset = failed and self.inputs.reset_failed
        if reset:
            # Like systemd's reset-failed: the start-limit window starts over too, or the
            # next exit would give up again at once.
            book = replace(book, failed_hash=None, recent_starts=())
            failed = False
        task = unit.task
        if reset and (task is None or task.phase is not TaskPhase.STOPPED):
            self.record(service, unit, _RESET_FAILED, "apply resets failed state")
        if task is None or task.phase is TaskPhase.CREATED:
            if book.completed_hash == config_hash and service.oneshot:
                self.status(service, ServiceState.COMPLETED)
                return
            if failed:
                self.status(service, ServiceState.FAILED, reason="start limit reached")
                return
            if (problem := self.dependency_problem(service)) is not None:
                self.status(service, ServiceState.BLOCKED, reason=problem)
                return
            drift = Drift.TASK_MISSING if task is None else None
            cause = "task-missing" if task is None else "task created but not started"
            self.actions.append(Start(service=service.name, cause=cause, reset_starts=reset))
            self.status(service, ServiceState.STARTING, drift=drift, reason=cause)
            return
        if task.phase is TaskPhase.RUNNING:
            self.status(service, ServiceState.RUNNING, since=self.started_at(unit))
            return
        if task.phase is not TaskPhase.STOPPED:
            self.status(service, ServiceState.PENDING, reason=f"task {task.phase.value}")
            return
        self.plan_exit(service, unit, book, failed=failed, reset=reset)

    def started_at(self, unit: ObservedUnit) -> datetime | None:
        text = unit.labels.get(labels.STARTED_AT)
        try:
            return datetime.fromisoformat(text) if text else unit.created_at
        except ValueError:
            return unit.created_at

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
        if failed:
            self.status(service, ServiceState.FAILED, reason="start limit reached", since=exited_at)
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
        if any(unit.labels.get(k) != v for k, v in recorded.items()):
            self.record(service, unit, recorded, f"exit code {task.exit_code}")
        match decision:
            case Completed():
                self.status(service, ServiceState.COMPLETED, since=exited_at)
            case StayExited():
                self.status(
                    service,
                    ServiceState.EXITED,
                    since=exited_at,
                    reason=f"exited with code {task.exit_code} ({_policy(service)})",
                )
            case GiveUp(starts=starts):
                self.status(
                    service,
                    ServiceState.FAILED,
                    since=exited_at,
                    reason=f"{starts} starts within {service.restart.start_limit_interval}",
                )
            case RestartAt(when=when, delay=delay):
                if when <= self.inputs.now:
                    if (problem := self.dependency_problem(service)) is not None:
                        self.status(service, ServiceState.BLOCKED, reason=problem)
                        return
                    cause = f"exited with code {task.exit_code} ({_policy(service)})"
                    self.actions.append(
                        Start(
                            service=service.name, cause=cause, is_restart=True, reset_starts=reset
                        )
                    )
                    self.status(service, ServiceState.STARTING, reason=cause)
                else:
                    self.requeue_at[service.name] = when
                    self.status(
                        service,
                        ServiceState.BACKOFF,
                        since=exited_at,
                        reason=f"restarting in {(when - self.inputs.now).total_seconds():.1f}s "
                        f"(exit code {task.exit_code}, delay {delay.total_seconds():g}s)",
                    )

    def record(
        self,
        service: DesiredService,
        unit: ObservedUnit,
        changes: Mapping[str, str | None],
        cause: str,
    ) -> None:
        self.actions.append(
            Record(
                service=service.name,
                unit_id=unit.id,
                mode=unit.mode,
                labels=MappingProxyType(dict(changes)),
                cause=cause,
            )
        )

    def remove(self, unit: ObservedUnit, service: DesiredService | None, cause: str) -> None:
        grace = service.timeout_stop if service is not None else stop_timeout(unit)
        self.actions.append(
            Remove(unit_id=unit.id, mode=unit.mode, cause=cause, service=unit.service, grace=grace)
        )

    # -- orphans -------------------------------------------------------------------

    def plan_orphans(self) -> None:
        desired = {s.name for s in self.inputs.desired.services}
        for unit in self.inputs.observed.units:
            if unit.project == self.project and unit.service not in desired:
                self.remove(unit, None, "not in the Orchfile")


def stop_timeout(unit: ObservedUnit) -> timedelta | None:
    """The TIMEOUT_STOP a unit was created with, from its label."""
    try:
        return timedelta(seconds=float(unit.labels.get(labels.STOP_TIMEOUT, "")))
    except ValueError:
        return None


def _health(service: DesiredService, runtime: ServiceRuntime, task: ObservedTask | None) -> Health:
    """NONE without a HEALTHCHECK; for a running process not probed yet, STARTING."""
    if service.healthcheck is None:
        return Health.NONE
    if runtime.health is Health.NONE:
        running = task is not None and task.phase is TaskPhase.RUNNING
        return Health.STARTING if running else Health.NONE
    return runtime.health


def _desired_word(service: DesiredService) -> str:
    if service.disabled:
        return "disabled"
    return "completed" if service.oneshot else "running"


def _policy(service: DesiredService) -> str:
    return f"RESTART {service.restart.policy.value}"


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


def modes_of(observed: Observed) -> Mapping[str, ServiceMode]:
    return {u.id: u.mode for u in observed.units}
