"""`reconciler run`: converge, then keep converging until SIGINT or SIGTERM.

Triggers, all coalesced into the engine's next pass: a save of the Orchfile, an overlay
or an ENV_FILE (the watcher, debounced); a runtime event (a task exited, a container was
deleted); a backoff timer coming due; a health change; and a periodic full resync. A save
that does not parse is logged with its FILE:LINE errors and the last good desired state
stays in force: nothing is torn down. The signal ends the loop and leaves the services
running, as containers outlive the reconciler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from reconciler.app.clock import SystemClock
from reconciler.app.engine import Engine
from reconciler.app.watcher import FileWatcher
from reconciler.controllers.driver import Driver
from reconciler.errors import InvalidOrchfile
from reconciler.model.desired import DesiredStack, ServiceName

log = logging.getLogger("reconciler")

RESYNC_PERIOD: Final = timedelta(seconds=30)


def watched_paths(desired: DesiredStack) -> set[Path]:
    paths = set(desired.files)
    for service in desired.services:
        paths.update(service.env_files)
    return paths


class Runner:
    def __init__(
        self,
        engine: Engine,
        load: Callable[[], DesiredStack],
        *,
        resync: timedelta = RESYNC_PERIOD,
    ) -> None:
        self._engine = engine
        self._load = load
        self._resync = resync
        self._reload = asyncio.Event()
        self._stop = asyncio.Event()
        self.invalid: InvalidOrchfile | None = None

    def stop(self) -> None:
        self._stop.set()

    def _on_change(self, paths: frozenset[Path]) -> None:
        self._reload.set()
        self._engine.wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.stop)
        followers = [
            asyncio.create_task(self._follow(driver), name=f"events {driver.mode.value}")
            for driver in self._engine.drivers.values()
        ]
        try:
            async with FileWatcher(
                watched_paths(self._engine.desired), self._on_change, clock=SystemClock()
            ) as watcher:
                await self._loop(watcher)
        finally:
            for task in followers:
                task.cancel()
            await asyncio.gather(*followers, return_exceptions=True)
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        log.info("stopped; services keep running")

    async def _loop(self, watcher: FileWatcher) -> None:
        first = True
        while not self._stop.is_set():
            if self._reload.is_set():
                self._reload.clear()
                self._reload_desired(watcher)
            self._engine.wake.clear()
            result = await self._engine.run_pass(
                reset_failed=first, recreate_always=first, background=True
            )
            log.debug(
                "pass: %d action(s), %d error(s)",
                len(result.plan.actions) if result.plan else 0,
                len(result.errors),
            )
            first = first and result.plan is None
            # Work runs in the background and wakes the next pass when it is done.
            await self._wait(result.plan.requeue_at if result.plan else {})

    def _reload_desired(self, watcher: FileWatcher) -> None:
        try:
            desired = self._load()
        except InvalidOrchfile as invalid:
            self.invalid = invalid
            log.error("the Orchfile is invalid; keeping the last good desired state:")
            for diagnostic in invalid.diagnostics:
                log.error("  %s", diagnostic)
            return
        self.invalid = None
        if desired != self._engine.desired:
            log.info("desired state reloaded")
        self._engine.desired = desired
        watcher.watch(watched_paths(desired))

    async def _wait(self, requeue_at: Mapping[ServiceName, datetime]) -> None:
        timeout = self._resync.total_seconds()
        if requeue_at:
            soonest = min(requeue_at.values())
            timeout = min(timeout, max(0.05, (soonest - self._engine.now()).total_seconds()))
        stop = asyncio.create_task(self._stop.wait())
        wake = asyncio.create_task(self._engine.wake.wait())
        try:
            await asyncio.wait({stop, wake}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stop, wake):
                task.cancel()
            await asyncio.gather(stop, wake, return_exceptions=True)

    async def _follow(self, driver: Driver) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            async for event in driver.events():
                log.debug("event: %s", event)
                self._engine.wake.set()
