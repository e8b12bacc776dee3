"""Keeping the containers' logs within the project's limits, from `run` and `apply`.

Why here: the shim writes a container's log and never rotates it, and a container
outlives every reconciler process, so whichever process is around keeps those logs: `run`
all along (a round every half second, sooner for a log that grows fast), `apply` once as
it starts, `logs -f` while it follows. Host services' logs are their supervisors' to keep
(`drivers.host.supervisor`). Both state the project's limits in its policy file first,
which is what the supervisors and `logs -f` read (`logfiles.policy`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from reconciler.clock import Clock
from reconciler.logfiles.keeper import PERIOD, LogKeeper
from reconciler.logfiles.policy import policy_path, write_policy
from reconciler.model.desired import DesiredStack, ServiceMode
from reconciler.model.log_limits import LogLimits

log = logging.getLogger("reconciler")


def container_logs(desired: DesiredStack) -> list[Path]:
    """The files the shim writes for the project's containers (both streams go to one)."""
    return [s.stdout for s in desired.services if s.mode is ServiceMode.CONTAINER]


def state_limits(desired: DesiredStack, limits: LogLimits) -> None:
    """Write the project's limits for every keeper that reads them; say so on a change."""
    if write_policy(policy_path(desired.paths.state_dir), limits):
        log.info("logs kept at %s per stream", limits.describe())


async def keep_once(desired: DesiredStack, limits: LogLimits) -> None:
    """One round over the containers' logs (`apply`)."""
    keeper = LogKeeper(lambda: limits)
    await asyncio.to_thread(keeper.round, container_logs(desired))


async def keep_logs(desired: Callable[[], DesiredStack], limits: LogLimits, clock: Clock) -> None:
    """Keep the containers' logs of whatever `desired` is now, until cancelled (`run`)."""
    keeper = LogKeeper(lambda: limits)
    while True:
        delay = PERIOD
        try:
            due, delay = keeper.due(container_logs(desired()))
            for path in due:
                await asyncio.to_thread(keeper.keep, path)
        except OSError as error:
            # Never the end of `run`: the next round tries again.
            log.warning("cannot keep the containers' logs: %s", error)
        await clock.sleep(delay)
