"""Observed units and plan inputs for planner tests, built the way the drivers label them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Final

from reconciler.clock import VIRTUAL_EPOCH as EPOCH
from reconciler.controllers.fingerprint import fingerprint
from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.controllers.plan import Inputs, Plan, PlanInputs
from reconciler.controllers.planner import plan
from reconciler.model import labels
from reconciler.model.desired import DesiredService, DesiredStack, ServiceMode, ServiceName
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.observed import Observed, ObservedTask, ObservedUnit, TaskPhase
from reconciler.model.secret import Secret
from reconciler.model.status import ServiceStatus

DIGEST: Final = "sha256:aaaa"


FINGERPRINT_KEY = b"test fingerprint key"


def fp(service: DesiredService, *, digest: str | None = DIGEST) -> Fingerprint:
    empty: list[dict[str, Secret]] = [{} for _ in service.env_files]
    return fingerprint(
        service,
        image_digest=digest if service.image else None,
        env_files=empty,
        key=FINGERPRINT_KEY,
    )


def running(pid: int = 100) -> ObservedTask:
    return ObservedTask(phase=TaskPhase.RUNNING, pid=pid)


def exited(code: int, at: datetime = EPOCH, pid: int = 100) -> ObservedTask:
    return ObservedTask(phase=TaskPhase.STOPPED, pid=pid, exit_code=code, exited_at=at)


def created() -> ObservedTask:
    return ObservedTask(phase=TaskPhase.CREATED, pid=0)


def unit(
    service: DesiredService,
    *,
    task: ObservedTask | None = None,
    print_: Fingerprint | None = None,
    project: str = "demo",
    extra: Mapping[str, str | None] | None = None,
    started_at: datetime = EPOCH,
) -> ObservedUnit:
    made = print_ or fp(service)
    found = {
        **labels.ours(),
        labels.PROJECT: project,
        labels.SERVICE: service.name,
        labels.CONFIG_HASH: made.config_hash,
        labels.CONFIG_PARTS: made.parts_label(),
        labels.STARTED_AT: started_at.isoformat(),
    }
    for key, value in (extra or {}).items():
        if value is None:
            found.pop(key, None)
        else:
            found[key] = value
    return ObservedUnit(
        id=labels.container_id(project, service.name),
        mode=ServiceMode.CONTAINER,
        project=project,
        service=service.name,
        config_hash=made.config_hash,
        image="registry.test/app:1",
        labels=MappingProxyType(found),
        created_at=started_at,
        task=task,
    )


def orphan(name: str, *, project: str = "demo") -> ObservedUnit:
    return ObservedUnit(
        id=labels.container_id(project, name),
        mode=ServiceMode.CONTAINER,
        project=project,
        service=name,
        config_hash="0" * 16,
        image="x",
        labels=MappingProxyType({**labels.ours(), labels.PROJECT: project, labels.SERVICE: name}),
        task=running(),
    )


def inputs_for(
    desired: DesiredStack,
    *units: ObservedUnit,
    now: datetime = EPOCH,
    gathered: Mapping[str, Inputs] | None = None,
    knowledge: Mapping[str, ServiceKnowledge] | None = None,
    reset_failed: bool = False,
    recreate: tuple[str, ...] = (),
    recreate_always: bool = False,
) -> PlanInputs:
    """Plan inputs with every service's fingerprint as `fp` makes it, unless `gathered`
    says else."""
    found: dict[ServiceName, Inputs] = {s.name: fp(s) for s in desired.services}
    found.update({ServiceName(k): v for k, v in (gathered or {}).items()})
    return PlanInputs(
        desired=desired,
        observed=Observed(namespace="orch", project=desired.project, observed_at=now, units=units),
        now=now,
        gathered=found,
        knowledge={ServiceName(k): v for k, v in (knowledge or {}).items()},
        reset_failed=frozenset(s.name for s in desired.services) if reset_failed else frozenset(),
        recreate=frozenset(ServiceName(n) for n in recreate),
        recreate_always=recreate_always,
    )


def make_plan(
    desired: DesiredStack,
    *units: ObservedUnit,
    now: datetime = EPOCH,
    gathered: Mapping[str, Inputs] | None = None,
    knowledge: Mapping[str, ServiceKnowledge] | None = None,
    reset_failed: bool = False,
    recreate: tuple[str, ...] = (),
    recreate_always: bool = False,
) -> Plan:
    """Plan with every service's fingerprint as `fp` makes it, unless `gathered` says else."""
    return plan(
        inputs_for(
            desired,
            *units,
            now=now,
            gathered=gathered,
            knowledge=knowledge,
            reset_failed=reset_failed,
            recreate=recreate,
            recreate_always=recreate_always,
        )
    )


def status(result: Plan, name: str) -> ServiceStatus:
    return next(s for s in result.statuses if s.name == name)


def with_labels(unit_: ObservedUnit, changes: Mapping[str, str | None]) -> ObservedUnit:
    """The unit as the next observation shows it after a `Record` of `changes`."""
    merged = dict(unit_.labels)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return replace(unit_, labels=MappingProxyType(merged))
