"""Dependents follow what they require (systemd's `BindsTo=`, as orchd maps REQUIRES).

When a service is restarted or recreated, whatever REQUIRES it was started against its
previous process, and is restarted once the new one is ready (AFTER stays ordering
only). Which process that was is a label: at every start the executor writes, on the
starting unit, the `orch.started-at` of each service it REQUIRES (`orch.bound-to`); the
planner compares those with the targets' current `orch.started-at`. A unit without the
label (started before there was one) has nothing to compare and is left alone. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.model import labels
from reconciler.model.desired import DesiredService
from reconciler.model.observed import ObservedUnit


def bound_to_label(service: DesiredService, project: str, units: Mapping[str, ObservedUnit]) -> str:
    """`web=<started-at>,...` for the REQUIRES targets that have a started unit."""
    stamps = []
    for name in service.requires:
        unit = units.get(labels.container_id(project, name))
        stamp = unit.labels.get(labels.STARTED_AT) if unit is not None else None
        if stamp:
            stamps.append(f"{name}={stamp}")
    return ",".join(stamps)


def parse_bound_to(text: str) -> dict[str, str]:
    found = {}
    for item in text.split(","):
        name, eq, stamp = item.partition("=")
        if eq and name and stamp:
            found[name] = stamp
    return found


def restarted_requirements(
    service: DesiredService, unit: ObservedUnit, units: Mapping[str, ObservedUnit]
) -> list[str]:
    """The REQUIRES targets started again since `unit`'s process began (`units`: the
    project's units by service name)."""
    bound = parse_bound_to(unit.labels.get(labels.BOUND_TO, ""))
    restarted: list[str] = []
    for name in service.requires:
        target = units.get(name)
        stamp = target.labels.get(labels.STARTED_AT) if target is not None else None
        if name in bound and stamp and stamp != bound[name]:
            restarted.append(name)
    return restarted
