"""Assemble `status`: the plan's per-service statuses, the Orchfile's validity, leaks.

A project whose files do not parse still has a status: its services as observed, the
error in `orchfile.error`, and `converged: false`.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.app.engine import PassResult
from reconciler.model.desired import DesiredStack
from reconciler.model.observed import Observed, TaskPhase
from reconciler.model.status import (
    Leaks,
    OrchfileStatus,
    ServiceState,
    ServiceStatus,
    StatusReport,
)


def leaks_of(desired: DesiredStack, observed: Observed) -> Leaks:
    desired_names = {s.name for s in desired.services}
    return Leaks(
        tasks=observed.headless_tasks,
        containers=tuple(
            u.id
            for u in observed.units
            if u.project == desired.project and u.service not in desired_names
        ),
        snapshots=observed.stray_snapshots,
        leases=tuple(lease.id for lease in observed.leases),
    )


def status_report(
    desired: DesiredStack,
    result: PassResult,
    observed: Observed | None,
    *,
    files: Sequence[str],
) -> StatusReport:
    statuses = result.plan.statuses if result.plan is not None else ()
    leaks = leaks_of(desired, observed) if observed is not None else Leaks()
    converged = result.plan is not None and result.plan.converged and not leaks.any
    return StatusReport(
        project=desired.project,
        namespace=desired.namespace,
        converged=converged,
        orchfile=OrchfileStatus(files=tuple(files), valid=True),
        services=statuses,
        leaks=leaks,
        runtime_error=result.unreachable,
    )


_PHASE_STATES = {
    TaskPhase.RUNNING: ServiceState.RUNNING,
    TaskPhase.STOPPED: ServiceState.EXITED,
    TaskPhase.CREATED: ServiceState.STARTING,
    TaskPhase.PAUSED: ServiceState.PENDING,
    TaskPhase.UNKNOWN: ServiceState.PENDING,
}


def invalid_orchfile_report(
    *,
    project: str,
    namespace: str,
    observed: Observed | None,
    files: Sequence[str],
    error: str,
    runtime_error: str | None = None,
) -> StatusReport:
    """Status when the files do not parse: what runs, as observed, and the error."""
    services = []
    for unit in observed.units if observed is not None else ():
        if unit.project != project:
            continue
        task = unit.task
        services.append(
            ServiceStatus(
                name=unit.service,
                mode=unit.mode.value,
                desired="unknown",
                state=_PHASE_STATES[task.phase] if task else ServiceState.PENDING,
                pid=task.pid if task and task.phase is TaskPhase.RUNNING else None,
                exit_code=task.exit_code if task else None,
                image=unit.image or None,
                reason="the Orchfile is invalid",
            )
        )
    return StatusReport(
        project=project,
        namespace=namespace,
        converged=False,
        orchfile=OrchfileStatus(files=tuple(files), valid=False, error=error),
        services=tuple(services),
        runtime_error=runtime_error,
    )
