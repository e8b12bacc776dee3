"""What each runtime command does, whether a `run` holds the project or not.

Why this exists: while `run` holds a project it is the one writer and the source of
truth, so `status`, `apply`, `restart`, `down` and `events` ask it; without one, they
do the work themselves (`direct`), under the project lock when they write. Each starts
by checking the state dir (`state_dir`): one another user could change is refused. The
CLI calls these functions and only prints what they return; which path was taken is
this module's business, and both paths return the same typed results.

`direct` (the engine, the drivers, containerd's stubs) is imported only on the direct
path: asking a `run` costs the import of its small client, not of the whole engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from reconciler.app.control.reach import find_run, writer
from reconciler.app.loading import ProjectOptions, load_desired, project_context, source_identity
from reconciler.app.results import ApplyResult, DownResult, Outcome
from reconciler.app.state_dir import open_state_dir
from reconciler.clock import Clock, SystemClock
from reconciler.errors import NoRun, UsageError
from reconciler.model.desired import ServiceName
from reconciler.model.journal import Entry
from reconciler.model.status import Outlook, StatusReport

if TYPE_CHECKING:
    from reconciler.app.metrics.address import ListenAddress
    from reconciler.controllers.projection import Projection
    from reconciler.drivers.containerd.images.ingest import ProgressCallback
    from reconciler.model.observed import Observed

WATCH_INTERVAL: Final = 2.0


async def project_status(options: ProjectOptions) -> StatusReport:
    """`run`'s live view when one holds the project; else what this process sees."""
    open_state_dir(options.settings, writes=False)
    client = await find_run(options)
    if client is not None:
        async with client:
            return await client.status()
    from reconciler.app import direct  # the engine, only when no `run` answers

    return await direct.status(options)


async def watch_status(
    options: ProjectOptions, *, clock: Clock | None = None
) -> AsyncIterator[StatusReport]:
    """A status every `WATCH_INTERVAL` seconds, until the caller stops iterating."""
    clock = clock or SystemClock()
    open_state_dir(options.settings, writes=False)
    client = await find_run(options)
    if client is not None:
        async with client:
            while True:
                yield await client.status()
                await clock.sleep(WATCH_INTERVAL)
    from reconciler.app import direct

    async for report in direct.watch_status(options, clock=clock):
        yield report


async def project_plan(options: ProjectOptions, *, offline: bool) -> tuple[Observed, Projection]:
    """Everything `apply` would do now (planned here, whether a `run` holds the project or
    not: planning changes nothing)."""
    open_state_dir(options.settings, writes=False)
    from reconciler.app import direct

    return await direct.plan(options, offline=offline)


async def apply_project(
    options: ProjectOptions,
    *,
    wait: bool,
    limit: timedelta,
    on_progress: ProgressCallback | None = None,
) -> ApplyResult:
    desired = load_desired(options)
    open_state_dir(options.settings, writes=True)
    async with writer(options, "apply") as run:
        if run is not None:
            outcome = await run.apply(source_identity(options), wait=wait, limit=limit)
            return _from_outcome(outcome, wait=wait)
        from reconciler.app import direct

        report, result = await direct.apply(
            desired,
            options,
            wait=wait,
            limit=limit,
            on_progress=on_progress,
            log_limits=options.settings.log_limits,
        )
    ok = result.plan.converged if wait else (not result.failures and _acceptable(report))
    return ApplyResult(report=report, ok=ok)


async def restart_services(
    options: ProjectOptions, names: list[str], *, limit: timedelta
) -> ApplyResult:
    """Recreate `names` now, their start limit reset; the status of those services."""
    desired = load_desired(options)
    if unknown := sorted(set(names) - {s.name for s in desired.services}):
        known = ", ".join(s.name for s in desired.services) or "none"
        raise UsageError(
            f"no service {', '.join(repr(n) for n in unknown)} in the Orchfile (services: {known})"
        )
    open_state_dir(options.settings, writes=True)
    async with writer(options, "restart") as run:
        if run is not None:
            outcome = await run.restart(names, limit=limit)
            return _only(_from_outcome(outcome, wait=True), names)
        from reconciler.app import direct

        report, _ = await direct.apply(
            desired,
            options,
            wait=False,
            limit=limit,
            recreate=frozenset(ServiceName(n) for n in names),
        )
    return _only(ApplyResult(report=report, ok=True), names)


async def down_project(
    options: ProjectOptions, *, grace: timedelta | None, volumes: bool = False
) -> DownResult:
    """Everything of the project stopped and deleted, its logs too and, with `volumes`,
    its named volumes (by `run`, which then exits, when one holds the project)."""
    open_state_dir(options.settings, writes=True)
    async with writer(options, "down") as run:
        if run is not None:
            return await run.down(grace, volumes=volumes)
        from reconciler.app import direct

        return await direct.down(options, grace=grace, volumes=volumes)


async def run_project(
    options: ProjectOptions, *, metrics: ListenAddress | None = None
) -> DownResult | None:
    open_state_dir(options.settings, writes=True)
    from reconciler.app import serve

    return await serve.run(options, metrics=metrics)


def _from_outcome(outcome: Outcome, *, wait: bool) -> ApplyResult:
    ok = outcome.converged or (not wait and _acceptable(outcome.report))
    return ApplyResult(report=outcome.report, ok=ok, timed_out=outcome.timed_out)


def _acceptable(report: StatusReport) -> bool:
    """A plain `apply` succeeded: nothing stuck, every runtime reached."""
    return report.runtime_error is None and not any(
        s.outlook is Outlook.STUCK for s in report.services
    )


def _only(result: ApplyResult, names: list[str]) -> ApplyResult:
    mine = tuple(s for s in result.report.services if s.name in names)
    ok = all(s.outlook is Outlook.SETTLED for s in mine)
    return replace(result, report=replace(result.report, services=mine), ok=ok)


async def follow_events(options: ProjectOptions) -> AsyncIterator[tuple[Entry, int]]:
    open_state_dir(options.settings, writes=False)
    client = await find_run(options)
    if client is None:
        context = project_context(options)
        raise NoRun(
            f"events come from a running `reconciler run`; none holds project "
            f"'{context.project}' in namespace '{context.namespace}'"
        )
    async with client:
        async for item in client.events():
            yield item
