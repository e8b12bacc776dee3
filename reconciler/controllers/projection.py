"""What `apply` will do, all of it, in order: the plan carried forward through the passes.

Why this exists: one pass plans only what can happen now; on a fresh stack that is the
services with nothing to wait for, and everything else is `blocked`. A user deciding
from `plan` needs the whole story: every action `apply` will take, in the order it takes
them, each later one saying what it waits for. This replays the planner on the outcome
it expects of each step (a created or started service runs and passes its check, a
oneshot completes, a removed unit is gone), with the same pure `plan()` that `apply`
uses, until nothing is left to do. What can never happen (a service whose inputs fail,
or that waits on one) is reported apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final

from reconciler.controllers.actions import (
    Action,
    Create,
    Record,
    Recreate,
    Reload,
    Remove,
    Start,
    subject,
)
from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.controllers.plan import Inputs, Plan, PlanInputs
from reconciler.controllers.planner import plan
from reconciler.model import labels
from reconciler.model.desired import DesiredService, DesiredStack, ServiceName
from reconciler.model.fingerprint import ConfigHash, Fingerprint
from reconciler.model.observed import ObservedTask, ObservedUnit, TaskPhase
from reconciler.model.status import Health, Outlook, ServiceStatus

MAX_STEPS: Final = 64


@dataclass(frozen=True, kw_only=True)
class Wait:
    """A later step waits for `service` to be in `condition` (healthy, running,
    completed, started)."""

    service: str
    condition: str

    def __str__(self) -> str:
        return f"{self.service} {self.condition}"


@dataclass(frozen=True, kw_only=True)
class Step:
    action: Action
    step: int  # 0: the first pass; n: after n rounds of earlier actions have settled
    waits_for: tuple[Wait, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Projection:
    steps: tuple[Step, ...]
    first: Plan  # the first pass's own plan, with its statuses
    never: tuple[ServiceStatus, ...]  # what cannot get where it should without a change

    @property
    def changes(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if not isinstance(s.action, Record))


def project(inputs: PlanInputs) -> Projection:
    first = plan(inputs)
    steps = [Step(action=a, step=0) for a in first.actions]
    current, result = inputs, first
    acted: set[str] = {subject(a) for a in first.actions}
    for number in range(1, MAX_STEPS):
        current = _after(current, result.actions)
        result = plan(current)
        fresh = [a for a in result.actions if not isinstance(a, Record) and subject(a) not in acted]
        if not fresh:
            break
        for action in fresh:
            name = subject(action)
            acted.add(name)
            steps.append(
                Step(action=action, step=number, waits_for=_waits(inputs.desired, name, acted))
            )
    never = tuple(s for s in result.statuses if s.outlook is Outlook.STUCK)
    return Projection(steps=tuple(steps), first=first, never=never)


def _waits(desired: DesiredStack, name: str, acted: set[str]) -> tuple[Wait, ...]:
    service = desired.service(name)
    if service is None:
        return ()
    waits = [
        Wait(service=dep, condition=_readiness(desired.service(dep)))
        for dep in service.requires
        if dep in acted
    ]
    waits += [Wait(service=dep, condition="started") for dep in service.after if dep in acted]
    return tuple(waits)


def _readiness(service: DesiredService | None) -> str:
    if service is None:
        return "ready"
    if service.oneshot:
        return "completed"
    return "healthy" if service.healthcheck is not None else "running"


def _after(inputs: PlanInputs, actions: tuple[Action, ...]) -> PlanInputs:
    """The inputs as they will be once `actions` have done what they are for."""
    units = {u.service: u for u in inputs.observed.units if u.project == inputs.desired.project}
    others = [u for u in inputs.observed.units if u.project != inputs.desired.project]
    knowledge = dict(inputs.knowledge)
    gathered = dict(inputs.gathered)
    for action in actions:
        name = subject(action)
        service = inputs.desired.service(name)
        match action:
            case Remove():
                units.pop(name, None)
            case Create() | Recreate() | Start() | Reload() if service is not None:
                if not isinstance(gathered.get(service.name), Fingerprint):
                    # The image is fetched on the way: what it is, only the pull will say.
                    gathered[service.name] = Fingerprint(
                        config_hash=ConfigHash(f"projected-{name}"), parts=MappingProxyType({})
                    )
                units[name] = _settled_unit(
                    replace(inputs, gathered=gathered), service, units.get(name)
                )
                knowledge[ServiceName(name)] = ServiceKnowledge(
                    health=Health.HEALTHY if service.healthcheck else Health.NONE,
                    observed=True,
                )
            case _:
                continue
    observed = replace(inputs.observed, units=(*others, *units.values()))
    return replace(
        inputs,
        observed=observed,
        gathered=MappingProxyType(gathered),
        knowledge=MappingProxyType(knowledge),
        reset_failed=frozenset(),
        recreate=frozenset(),
        recreate_always=False,
    )


def _settled_unit(
    inputs: PlanInputs, service: DesiredService, unit: ObservedUnit | None
) -> ObservedUnit:
    gathered: Inputs | None = inputs.gathered.get(service.name)
    config_hash = gathered.config_hash if isinstance(gathered, Fingerprint) else "projected"
    parts = gathered.parts_label() if isinstance(gathered, Fingerprint) else ""
    unit_labels = {
        **labels.ours(),
        labels.PROJECT: inputs.desired.project,
        labels.SERVICE: service.name,
        labels.CONFIG_HASH: config_hash,
        labels.CONFIG_PARTS: parts,
    }
    task: ObservedTask | None = ObservedTask(phase=TaskPhase.RUNNING, pid=0)
    if service.oneshot:
        unit_labels[labels.COMPLETED] = config_hash
        task = None
    return ObservedUnit(
        id=unit.id if unit else labels.container_id(inputs.desired.project, service.name),
        mode=service.mode if unit is None else unit.mode,
        project=inputs.desired.project,
        service=service.name,
        config_hash=config_hash,
        image=unit.image if unit else "",
        labels=MappingProxyType(unit_labels),
        task=task,
    )
