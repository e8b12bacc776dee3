"""Assemble `status`: the plan's per-service statuses, the Orchfile's validity, leaks.

A project whose files do not parse still has a status: its services as observed, the
error in `orchfile.error`, and `converged: false`. Without a `run`, a service whose next
step is planned but not under way says that nothing is reconciling it, so no status
claims work that nobody is doing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.controllers.leaks import LeakFacts, NotObserved, Scope, leak_report
from reconciler.controllers.plan import Plan
from reconciler.model.desired import DesiredStack
from reconciler.model.leaks import Checked, LeakClass
from reconciler.model.observed import Observed, TaskPhase
from reconciler.model.status import (
    DesiredState,
    Leaks,
    OrchfileStatus,
    Outlook,
    RejectedSave,
    ServiceState,
    ServiceStatus,
    StatusReport,
)

NOBODY: str = "nothing is reconciling it (no `reconciler run` holds the project)"


def leaks_of(desired: DesiredStack, observed: Observed) -> Leaks:
    """containerd's leaks of the project, judged by `leak-check`'s own rules
    (`controllers.leaks`) on this observation's listing, so the two always agree."""
    if observed.runtime is None:
        return Leaks()
    elsewhere = NotObserved(reason="not part of status")
    report = leak_report(
        LeakFacts(
            runtime=observed.runtime,
            shims=elsewhere,
            mounts=elsewhere,
            cgroups=elsewhere,
            network_namespaces=elsewhere,
            veths=elsewhere,
            ipam_allocations=elsewhere,
            nat_rules=elsewhere,
            bridges=elsewhere,
            host=elsewhere,
            volumes=elsewhere,
            log_files=elsewhere,
        ),
        Scope(namespace=desired.namespace, desired=desired),
        now=observed.observed_at,
    )
    found = {
        outcome.leak_class: tuple(item.id for item in outcome.leaked)
        for outcome in report.outcomes
        if isinstance(outcome, Checked)
    }
    return Leaks(
        tasks=found.get(LeakClass.TASKS, ()),
        containers=found.get(LeakClass.CONTAINERS, ()),
        snapshots=found.get(LeakClass.SNAPSHOTS, ()),
        leases=found.get(LeakClass.LEASES, ()),
    )


def status_report(
    desired: DesiredStack,
    plan: Plan,
    observed: Observed,
    *,
    files: Sequence[str],
    rejected: RejectedSave | None = None,
) -> StatusReport:
    leaks = leaks_of(desired, observed)
    invalid = rejected is not None and not rejected.held
    unreachable = "; ".join(observed.unreachable.values()) or None
    return StatusReport(
        project=desired.project,
        namespace=desired.namespace,
        converged=plan.converged and not leaks.any and rejected is None,
        orchfile=OrchfileStatus(
            files=tuple(files),
            valid=not invalid,
            error=rejected.error if rejected is not None else None,
        ),
        services=plan.statuses,
        leaks=leaks,
        runtime_error=unreachable,
    )


def unattended(report: StatusReport) -> StatusReport:
    """The report as seen with no `run`: planned work is work nobody is doing."""
    return replace(report, services=tuple(_unattended(s) for s in report.services))


def _unattended(status: ServiceStatus) -> ServiceStatus:
    if status.planned is None or status.activity is not None:
        return status
    reason = f"{status.reason}; {NOBODY}" if status.reason else NOBODY
    return replace(status, reason=reason)


_PHASE_STATES = {
    TaskPhase.RUNNING: ServiceState.RUNNING,
    TaskPhase.STOPPED: ServiceState.EXITED,
    TaskPhase.CREATED: ServiceState.PENDING,
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
                mode=unit.mode,
                desired=DesiredState.UNKNOWN,
                state=_PHASE_STATES[task.phase] if task else ServiceState.PENDING,
                outlook=Outlook.STUCK,
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
