"""`down`: every unit of a project stopped and deleted, dependents first, then its data.

Teardown is not a plan: whatever the project's state, every unit goes, in waves that
stop each service before what it depends on (`controllers.ordering`), each unit with its
TIMEOUT_STOP unless `down --timeout` replaces them all. The project's logs and named
volumes go only once a fresh observation finds nothing left: a unit that still runs may
still write, and its data stays for the next `down`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from reconciler.app import project_data
from reconciler.app.execution import Executor
from reconciler.app.results import DownResult
from reconciler.clock import Clock
from reconciler.controllers.actions import Remove
from reconciler.controllers.driver import Driver
from reconciler.controllers.ordering import stop_timeout, teardown_waves
from reconciler.errors import ReconcilerError
from reconciler.model.desired import DesiredStack
from reconciler.model.observed import Observed


async def tear_down(
    desired: DesiredStack,
    *,
    observe: Callable[[], Awaitable[Observed]],
    executor: Executor,
    drivers: Iterable[Driver],
    clock: Clock,
    grace: timedelta | None,
    volumes: bool,
) -> DownResult:
    """Remove every unit of `desired`'s project and release what its drivers hold; once
    nothing is left, forget its logs, and remove its named volumes with `volumes` (else
    record them as kept: `project_data`)."""
    observed = await observe()
    if observed.unreachable:
        reasons = "; ".join(observed.unreachable.values())
        return DownResult(failures=(), left=(), unreachable=reasons)
    failures: list[str] = []
    for wave in teardown_waves(desired, observed):
        actions = [
            Remove(
                unit_id=u.id,
                mode=u.mode,
                cause="down",
                service=u.service,
                grace=grace if grace is not None else stop_timeout(u),
            )
            for u in wave
        ]
        units = {u.id: u for u in wave}
        results = await asyncio.gather(*(executor.run(desired, a, {}, units) for a in actions))
        failures.extend(f"{f.service}: {f.message}" for f in results if f is not None)
    for driver in drivers:
        try:
            await driver.release_project()
        except ReconcilerError as error:
            failures.append(f"release {driver.mode.value} resources: {error}")
    after = await observe()
    left = tuple(u.id for u in after.units if u.project == desired.project)
    if failures or left or after.unreachable:
        # Something still runs and may still write: its data stays for the next down.
        return DownResult(failures=tuple(failures), left=left)
    paths = desired.paths
    await asyncio.to_thread(project_data.forget_logs, paths)
    if volumes:
        removed = await asyncio.to_thread(project_data.remove_volumes, paths)
        return DownResult(failures=(), left=(), removed_volumes=removed)
    kept = await asyncio.to_thread(project_data.keep_volumes, paths, clock.now())
    return DownResult(failures=(), left=(), kept_volumes=kept)
