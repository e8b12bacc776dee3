"""The order services come up and go down in, from REQUIRES and AFTER. Pure."""

from __future__ import annotations

from datetime import timedelta

from reconciler.model import labels
from reconciler.model.desired import DesiredService, DesiredStack
from reconciler.model.observed import Observed, ObservedUnit


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
