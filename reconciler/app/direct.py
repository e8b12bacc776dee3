"""The runtime commands done by this process itself, when no `run` holds the project
(`run` itself is `serve`).

Why this exists apart from `operations`: this is the half that needs the engine, the
drivers and the gRPC stubs of containerd; a command that talks to a `run` never loads
it (`operations` imports it only on the direct path).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Final

from reconciler.app.engine import Engine, PassResult
from reconciler.app.loading import ProjectOptions, load_desired, project_context
from reconciler.app.log_keeping import keep_once, state_limits
from reconciler.app.project import open_engine
from reconciler.app.project_data import forget_kept
from reconciler.app.results import DownResult
from reconciler.app.state_dir import make_project_dirs
from reconciler.app.status import invalid_orchfile_report, status_report, unattended
from reconciler.clock import Clock, SystemClock
from reconciler.controllers.projection import Projection
from reconciler.drivers.containerd.images.ingest import ProgressCallback
from reconciler.errors import InvalidOrchfile
from reconciler.model.desired import DesiredStack, ServiceName
from reconciler.model.log_limits import LogLimits
from reconciler.model.observed import Observed
from reconciler.model.status import StatusReport

WATCH_INTERVAL: Final = 2.0


async def status(options: ProjectOptions) -> StatusReport:
    try:
        desired = load_desired(options)
    except InvalidOrchfile as invalid:
        return await _invalid_status(options, invalid)
    async with open_engine(desired, options.settings) as engine:
        return await _status(engine, options)


async def watch_status(
    options: ProjectOptions, *, clock: Clock | None = None
) -> AsyncIterator[StatusReport]:
    clock = clock or SystemClock()
    desired = load_desired(options)
    async with open_engine(desired, options.settings, clock=clock) as engine:
        while True:
            yield await _status(engine, options)
            await clock.sleep(WATCH_INTERVAL)


async def _status(engine: Engine, options: ProjectOptions) -> StatusReport:
    result = await engine.plan_only(fetch=False)
    report = status_report(engine.desired, result.plan, result.observed, files=tuple(options.files))
    return unattended(report)


async def _invalid_status(options: ProjectOptions, invalid: InvalidOrchfile) -> StatusReport:
    """What runs, when the files do not parse: observed with an empty desired state."""
    empty = empty_stack(options)
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


def empty_stack(options: ProjectOptions) -> DesiredStack:
    context = project_context(options)
    return DesiredStack(
        project=context.project,
        namespace=context.namespace,
        files=context.files,
        paths=context.paths,
    )


async def plan(options: ProjectOptions, *, offline: bool) -> tuple[Observed, Projection]:
    desired = load_desired(options)
    async with open_engine(desired, options.settings) as engine:
        return await engine.projection(look_up=not offline)


async def apply(
    desired: DesiredStack,
    options: ProjectOptions,
    *,
    wait: bool,
    limit: timedelta,
    recreate: frozenset[ServiceName] = frozenset(),
    on_progress: ProgressCallback | None = None,
    log_limits: LogLimits | None = None,
) -> tuple[StatusReport, PassResult]:
    """Converge under the caller's project lock; the status then, and the last pass.
    `log_limits` (`apply`'s, not `restart`'s) become the project's, and the containers'
    logs are kept once, first. The project is up again: what a `down` kept is in use."""
    make_project_dirs(desired, options.settings)
    forget_kept(desired.paths)
    if log_limits is not None:
        state_limits(desired, log_limits)
        await keep_once(desired, log_limits)
    async with open_engine(
        desired, options.settings, start_embedded=True, on_progress=on_progress
    ) as engine:
        result = await engine.apply(wait=wait, limit=limit, recreate=recreate)
    report = status_report(desired, result.plan, result.observed, files=tuple(options.files))
    return unattended(report), result


async def down(
    options: ProjectOptions, *, grace: timedelta | None, volumes: bool = False
) -> DownResult:
    """Under the caller's project lock. An Orchfile that does not parse still names the
    project: everything of it is torn down, in no particular order."""
    try:
        desired = load_desired(options)
    except InvalidOrchfile:
        desired = empty_stack(options)
    async with open_engine(desired, options.settings) as engine:
        return await engine.down(grace=grace, volumes=volumes)
