"""What each runtime command does, whether a `run` holds the project or not.

Why this exists: while `run` holds a project it is the one writer and the source of
truth, so `status`, `apply`, `restart`, `down` and `events` ask it; without one, they
do the work themselves, under the project lock when they write. The CLI calls these
functions and only prints what they return; which path was taken is this module's
business, and both paths return the same typed results.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Final

from reconciler.app.control.reach import find_run, project_lock, writer
from reconciler.app.control.server import ControlServer
from reconciler.app.control.socket import control_socket
from reconciler.app.desired_source import DesiredSource
from reconciler.app.engine import DownResult, Engine, PassResult
from reconciler.app.journal import Journal
from reconciler.app.loading import ProjectOptions, load_desired, project_context, source_identity
from reconciler.app.project import open_engine, open_runtime
from reconciler.app.runner import Outcome, Runner
from reconciler.app.status import invalid_orchfile_report, status_report, unattended
from reconciler.app.supervise import DaemonSupervisor
from reconciler.app.watcher import FileWatcher
from reconciler.clock import Clock, SystemClock
from reconciler.drivers.containerd.images.ingest import ProgressCallback
from reconciler.errors import InvalidOrchfile, NoRun, UsageError
from reconciler.model.desired import DesiredStack, ServiceName
from reconciler.model.journal import Entry
from reconciler.model.status import Outlook, StatusReport

WATCH_INTERVAL: Final = 2.0


@dataclass(frozen=True, kw_only=True)
class ApplyResult:
    """How `apply` (or `restart`) ended: the status then, and whether it succeeded."""

    report: StatusReport
    ok: bool
    timed_out: bool = False
    through_run: bool = False


# -- status ----------------------------------------------------------------------------


async def project_status(options: ProjectOptions) -> StatusReport:
    """`run`'s live view when one holds the project; else what this process sees."""
    client = await find_run(options)
    if client is not None:
        async with client:
            return await client.status()
    try:
        desired = load_desired(options)
    except InvalidOrchfile as invalid:
        return await _invalid_status(options, invalid)
    async with open_engine(desired, options.settings) as engine:
        return await _direct_status(engine, options)


async def watch_status(
    options: ProjectOptions, *, clock: Clock | None = None
) -> AsyncIterator[StatusReport]:
    """A status every `WATCH_INTERVAL` seconds, until the caller stops iterating."""
    clock = clock or SystemClock()
    client = await find_run(options)
    if client is not None:
        async with client:
            while True:
                yield await client.status()
                await clock.sleep(WATCH_INTERVAL)
    desired = load_desired(options)
    async with open_engine(desired, options.settings, clock=clock) as engine:
        while True:
            yield await _direct_status(engine, options)
            await clock.sleep(WATCH_INTERVAL)


async def _direct_status(engine: Engine, options: ProjectOptions) -> StatusReport:
    result = await engine.plan_only(fetch=False)
    report = status_report(engine.desired, result.plan, result.observed, files=tuple(options.files))
    return unattended(report)


async def _invalid_status(options: ProjectOptions, invalid: InvalidOrchfile) -> StatusReport:
    """What runs, when the files do not parse: observed with an empty desired state."""
    empty = _empty(options)
    async with open_engine(empty, options.settings) as engine:
        observed = await engine.observe()
    return invalid_orchfile_report(
        project=empty.project,
        namespace=empty.namespace,
        observed=observed,
        files=tuple(options.files),
        error=str(invalid.diagnostics[0]) if invalid.diagnostics else str(invalid),
        runtime_error="; ".join(observed.unreachable.values()) or None,
    )


def _empty(options: ProjectOptions) -> DesiredStack:
    context = project_context(options)
    return DesiredStack(
        project=context.project,
        namespace=context.namespace,
        files=context.files,
        paths=context.paths,
    )


# -- plan ------------------------------------------------------------------------------


async def project_plan(options: ProjectOptions) -> PassResult:
    desired = load_desired(options)
    async with open_engine(desired, options.settings) as engine:
        return await engine.plan_only(fetch=False)


# -- apply, restart, down -----------------------------------------------------------------


async def apply_project(
    options: ProjectOptions,
    *,
    wait: bool,
    limit: timedelta,
    on_progress: ProgressCallback | None = None,
) -> ApplyResult:
    desired = load_desired(options)
    async with writer(options, "apply") as run:
        if run is not None:
            outcome = await run.apply(source_identity(options), wait=wait, limit=limit)
            return _from_outcome(outcome, wait=wait)
        async with open_engine(
            desired, options.settings, start_embedded=True, on_progress=on_progress
        ) as engine:
            result = await engine.apply(wait=wait, limit=limit)
        return _from_pass(desired, result, options, wait=wait)


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
    async with writer(options, "restart") as run:
        if run is not None:
            outcome = await run.restart(names, limit=limit)
            return _only(_from_outcome(outcome, wait=True), names)
        async with open_engine(desired, options.settings, start_embedded=True) as engine:
            result = await engine.apply(
                wait=False, limit=limit, recreate=frozenset(ServiceName(n) for n in names)
            )
        return _only(_from_pass(desired, result, options, wait=True), names)


async def down_project(options: ProjectOptions, *, grace: timedelta | None) -> DownResult:
    """Everything of the project stopped and deleted (by `run`, which then exits, when
    one holds the project). An Orchfile that does not parse still names the project."""
    async with writer(options, "down") as run:
        if run is not None:
            return await run.down(grace)
        try:
            desired = load_desired(options)
        except InvalidOrchfile:
            desired = _empty(options)
        async with open_engine(desired, options.settings) as engine:
            return await engine.down(grace=grace)


def _from_outcome(outcome: Outcome, *, wait: bool) -> ApplyResult:
    ok = outcome.converged or (not wait and _acceptable(outcome.report))
    return ApplyResult(report=outcome.report, ok=ok, timed_out=outcome.timed_out, through_run=True)


def _from_pass(
    desired: DesiredStack, result: PassResult, options: ProjectOptions, *, wait: bool
) -> ApplyResult:
    report = unattended(
        status_report(desired, result.plan, result.observed, files=tuple(options.files))
    )
    ok = result.plan.converged if wait else (not result.failures and _acceptable(report))
    return ApplyResult(report=report, ok=ok)


def _acceptable(report: StatusReport) -> bool:
    """A plain `apply` succeeded: nothing stuck, every runtime reached."""
    return report.runtime_error is None and not any(
        s.outlook is Outlook.STUCK for s in report.services
    )


def _only(result: ApplyResult, names: list[str]) -> ApplyResult:
    mine = tuple(s for s in result.report.services if s.name in names)
    ok = all(s.outlook is Outlook.SETTLED for s in mine)
    return replace(result, report=replace(result.report, services=mine), ok=ok)


# -- events ----------------------------------------------------------------------------


async def follow_events(options: ProjectOptions) -> AsyncIterator[tuple[Entry, int]]:
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


# -- run -------------------------------------------------------------------------------


async def run_project(options: ProjectOptions) -> DownResult | None:
    """Converge and keep converging until a signal (None) or `down` (its result)."""
    desired = load_desired(options)
    clock = SystemClock()
    journal = Journal()
    with project_lock(options, "run"):
        async with open_runtime(desired, options.settings, clock=clock, supervised=True) as rt:
            engine = Engine(desired=desired, drivers=rt.drivers, clock=clock, journal=journal)
            source = DesiredSource(
                load=lambda: load_desired(options),
                identity=source_identity(options),
                initial=desired,
                clock=clock,
                journal=journal,
            )
            daemon = rt.containerd.daemon if rt.containerd is not None else None
            supervisor = (
                DaemonSupervisor(daemon, clock=clock, on_restart=engine.wake.set)
                if daemon is not None
                else None
            )
            runner = Runner(
                engine,
                source,
                watch=lambda paths, on_saved: FileWatcher(paths, on_saved, clock=clock),
                background=[supervisor.run] if supervisor is not None else [],
            )
            server = ControlServer(
                runner,
                control_socket(options.settings.state_dir, desired.namespace, desired.project),
                state_dir=options.settings.state_dir,
            )
            await server.start()
            try:
                if daemon is not None:
                    await daemon.ensure_running()
                return await runner.run()
            finally:
                await engine.close()
                journal.close()
                await server.stop()
