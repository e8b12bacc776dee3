"""`reconciler run`: the one writer of a project, converging until told to stop.

Triggers, all coalesced into the engine's next pass: a finished save of the Orchfile, an
overlay or an ENV_FILE (`watcher`, `desired_source` decides what is applied); a runtime
event (a task exited, a container was deleted); a backoff or retry coming due; a health
change; work finishing; the embedded containerd started again; a request from another
command over the control API (`apply`, `restart`, `down`); and a periodic full resync.

Requests are answered from the passes themselves: `apply` resets failed services and
waits until a pass finds the project converged (or stuck, or not progressing, as plain
`apply` would); `restart` recreates services and waits for them; `down` ends the loop,
tears everything down and makes `run` exit. SIGINT and SIGTERM end the loop and leave
the services running, as containers outlive the reconciler.

Those who watch `run` itself rather than the project (its metrics, systemd's readiness
protocol) are `RunListener`s: told of every finished pass, and once that `run` is
stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Protocol

from reconciler.app.desired_source import DesiredSource
from reconciler.app.engine import Engine, PassResult
from reconciler.app.loading import SourceIdentity
from reconciler.app.results import DownResult, Outcome
from reconciler.app.saves import OnSaved
from reconciler.app.status import status_report
from reconciler.clock import Clock
from reconciler.controllers.driver import Driver
from reconciler.errors import ControlError
from reconciler.model.desired import DesiredStack, ServiceName
from reconciler.model.journal import Converged
from reconciler.model.status import (
    Outlook,
    ReconcilerInfo,
    RejectedSave,
    RuntimeReach,
    StatusReport,
)

log = logging.getLogger("reconciler")

RESYNC_PERIOD: Final = timedelta(seconds=30)
# How old the last pass's observation may be for `status` to reuse it.
STATUS_REUSE: Final = timedelta(seconds=5)
UNREACHABLE_RETRY_FIRST: Final = 0.5
UNREACHABLE_RETRY_CAP: Final = 30.0


class Watching(Protocol):
    def watch(self, paths: Iterable[Path]) -> None: ...


WatchFactory = Callable[[Iterable[Path], OnSaved], AbstractAsyncContextManager[Watching]]


@dataclass(frozen=True, kw_only=True)
class PassDone:
    """A finished pass, with what `run` knew when it ended: for its listeners."""

    result: PassResult
    at: datetime
    duration: timedelta
    desired: DesiredStack
    rejected: RejectedSave | None
    runtimes: tuple[RuntimeReach, ...]


class RunListener(Protocol):
    """Watches `run` itself; called on the loop, so it must be quick and not raise."""

    def pass_done(self, done: PassDone) -> None: ...

    def stopping(self) -> None: ...


@dataclass(kw_only=True)
class _DownRequest:
    grace: timedelta | None
    done: asyncio.Future[DownResult]


class Runner:
    def __init__(
        self,
        engine: Engine,
        source: DesiredSource,
        *,
        watch: WatchFactory,
        background: Iterable[Callable[[], Awaitable[None]]] = (),
        listeners: Iterable[RunListener] = (),
        resync: timedelta = RESYNC_PERIOD,
        handle_signals: bool = True,
    ) -> None:
        self.engine = engine
        self.source = source
        self._clock: Clock = engine.clock
        self._watch = watch
        self._background = tuple(background)
        self._listeners = tuple(listeners)
        self._stopping = False
        self._resync = resync.total_seconds()
        self._handle_signals = handle_signals
        self._stop = asyncio.Event()
        self._saved = asyncio.Event()
        self._watcher: Watching | None = None
        self._reset: set[ServiceName] = set()
        self._recreate: set[ServiceName] = set()
        self._down: _DownRequest | None = None
        self._passes = 0
        self._passes_begun = 0
        self._pass_done = asyncio.Event()
        self._latest: PassResult | None = None
        self._latest_number = 0  # which pass (by beginning) `_latest` is
        self._last_pass_at: datetime | None = None
        self._last_pass_duration: timedelta | None = None
        self._retry_delay = UNREACHABLE_RETRY_FIRST
        self._converged = False
        self.started_at = self._clock.now()

    # -- the loop --------------------------------------------------------------------

    def stop(self) -> None:
        """End the loop; the services keep running."""
        self._say_stopping()
        self._stop.set()
        self.engine.wake.set()

    def _say_stopping(self) -> None:
        if not self._stopping:
            self._stopping = True
            for listener in self._listeners:
                listener.stopping()

    async def run(self) -> DownResult | None:
        """Converge until stopped; the teardown's result when `down` ended it."""
        loop = asyncio.get_running_loop()
        if self._handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, self.stop)
        helpers = [
            asyncio.create_task(self._follow(driver), name=f"events {mode.value}")
            for mode, driver in self.engine.drivers.items()
        ]
        helpers += [asyncio.ensure_future(job()) for job in self._background]
        try:
            async with self._watch(self.source.watched, self._on_saved) as watcher:
                self._watcher = watcher
                return await self._loop()
        finally:
            self._watcher = None
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            if self._handle_signals:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(signum)
            if self._down is not None and not self._down.done.done():
                self._down.done.set_exception(ControlError("`run` stopped before `down` ran"))

    def _on_saved(self, paths: frozenset[Path]) -> None:
        self._saved.set()
        self.engine.wake.set()

    async def _loop(self) -> DownResult | None:
        first = True
        while not self._stop.is_set():
            if self._down is not None:
                return await self._tear_down(self._down)
            if self._saved.is_set():
                self._saved.clear()
                self._reload()
            result = await self._pass(first=first)
            if first and not result.observed.unreachable:
                first = False
                self._announce(result)
            await self._wait(result)
        log.info("stopped; services keep running")
        return None

    async def _pass(self, *, first: bool) -> PassResult:
        self._passes_begun += 1
        number = self._passes_begun
        reset, recreate = frozenset(self._reset), frozenset(self._recreate)
        if first:
            reset |= {s.name for s in self.source.current.services}
        self.engine.wake.clear()
        started = self._clock.monotonic()
        result = await self.engine.run_pass(
            reset_failed=reset, recreate=recreate, recreate_always=first, background=True
        )
        if not result.observed.unreachable:
            self._reset -= reset
            self._recreate -= recreate
        self._passes += 1
        self._last_pass_at = self._clock.now()
        self._last_pass_duration = timedelta(seconds=self._clock.monotonic() - started)
        self._latest = result
        self._latest_number = number
        self._note_convergence(result)
        done = PassDone(
            result=result,
            at=self._last_pass_at,
            duration=self._last_pass_duration,
            desired=self.source.current,
            rejected=self.source.rejected,
            runtimes=self.engine.runtimes,
        )
        for listener in self._listeners:
            listener.pass_done(done)
        finished, self._pass_done = self._pass_done, asyncio.Event()
        finished.set()
        return result

    def _reload(self) -> None:
        if self.source.reload(observed=self.engine.last_observed):
            self._adopt_source()

    def _adopt_source(self) -> None:
        self.engine.desired = self.source.current
        for service in self.source.current.services:
            self.engine.knowledge.update(service.name, setback=None)
        if self._watcher is not None:
            self._watcher.watch(self.source.watched)

    def _announce(self, result: PassResult) -> None:
        statuses = result.plan.statuses
        if result.plan.converged:
            return  # `_note_convergence` said so
        counts: dict[str, int] = {}
        for status in statuses:
            word = status.planned.value if status.planned else status.state.value
            counts[word] = counts.get(word, 0) + 1
        summary = ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))
        log.info("%d service(s): %s", len(statuses), summary or "none")

    def _note_convergence(self, result: PassResult) -> None:
        converged = result.plan.converged and not self.engine.busy
        if converged and not self._converged:
            self.engine.journal.publish(
                Converged(at=self._clock.now(), services=len(result.plan.statuses))
            )
        self._converged = converged

    async def _wait(self, result: PassResult) -> None:
        timeout = self._resync
        if result.observed.unreachable:
            timeout = min(timeout, self._retry_delay)
            self._retry_delay = min(self._retry_delay * 2, UNREACHABLE_RETRY_CAP)
        else:
            self._retry_delay = UNREACHABLE_RETRY_FIRST
        timeout = self.engine.requeue_delay(result.plan, longest=timeout)
        await self._clock.wait_event(self.engine.wake, timeout)

    async def _follow(self, driver: Driver) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            async for event in driver.events():
                log.debug("event: %s", event)
                self.engine.wake.set()

    # -- requests from other commands ----------------------------------------------------

    async def status(self) -> StatusReport:
        """The live view: the last pass's observation when nothing has happened since
        (every change wakes a pass) and it is recent, else a fresh one; planned with
        everything `run` knows now (health, work in flight, backoff)."""
        latest = self._latest
        fresh_enough = (
            latest is not None
            and not self.engine.wake.is_set()
            and self._clock.now() - latest.observed.observed_at < STATUS_REUSE
        )
        if latest is not None and fresh_enough:
            plan = self.engine.replan(latest.observed)
            return self._report(PassResult(observed=latest.observed, plan=plan))
        return self._report(await self.engine.plan_only(fetch=False))

    def _report(self, result: PassResult) -> StatusReport:
        report = status_report(
            self.source.current,
            result.plan,
            result.observed,
            files=self.source.identity.files,
            rejected=self.source.rejected,
        )
        return _with_info(report, self._info())

    def _info(self) -> ReconcilerInfo:
        return ReconcilerInfo(
            pid=os.getpid(),
            started_at=self.started_at,
            files=tuple(str(p) for p in sorted(self.source.watched)),
            last_load=self.source.last_load,
            rejected_save=self.source.rejected,
            passes=self._passes,
            last_pass_at=self._last_pass_at,
            last_pass_duration=self._last_pass_duration,
            runtimes=self.engine.runtimes,
        )

    async def apply(self, identity: SourceIdentity, *, wait: bool, limit: timedelta) -> Outcome:
        """Load the files as given (confirming a held save), reset failed services, and
        wait as `apply` does. Raises `InvalidOrchfile` or `ControlError` up front."""
        if self.source.confirm(identity):
            self._adopt_source()
        self._reset |= {s.name for s in self.source.current.services}
        return await self._await(lambda r: _apply_done(r, wait=wait), limit)

    async def restart(self, names: Iterable[str], *, limit: timedelta) -> Outcome:
        """Recreate the named services now, their start limit reset, and wait for them."""
        wanted = {ServiceName(n) for n in names}
        known = {s.name for s in self.source.current.services}
        if unknown := sorted(wanted - known):
            raise ControlError(
                f"no service {', '.join(repr(n) for n in unknown)} in "
                f"{' '.join(self.source.identity.files)} (services: {', '.join(sorted(known))})"
            )
        self._reset |= wanted
        self._recreate |= wanted
        return await self._await(lambda r: self._restart_done(r, wanted), limit)

    def _restart_done(self, result: PassResult, names: set[ServiceName]) -> bool | None:
        if self._recreate & names or self.engine.busy:
            return None
        mine = [s for s in result.plan.statuses if s.name in names]
        if any(s.outlook is Outlook.PROGRESSING or s.planned for s in mine):
            return None
        return all(s.outlook is Outlook.SETTLED for s in mine)

    async def _await(
        self, verdict: Callable[[PassResult], bool | None], limit: timedelta
    ) -> Outcome:
        """Wait for passes begun after the request until `verdict` says done (True
        converged, False not) or `limit` passes. A pass under way when the request came
        did not see it, so its result says nothing about it."""
        deadline = self._clock.deadline(limit)
        requested_after = self._passes_begun
        self.engine.wake.set()
        while True:
            pass_done = self._pass_done
            if not await self._clock.wait_event(pass_done, deadline.remaining()):
                latest = self._latest
                report = await self.status() if latest is None else self._report(latest)
                return Outcome(report=report, converged=False, timed_out=True)
            result = self._latest
            assert result is not None
            if self._latest_number <= requested_after:
                continue
            done = verdict(result)
            if done is not None:
                return Outcome(report=self._report(result), converged=done)

    async def down(self, grace: timedelta | None) -> DownResult:
        """End the loop, tear everything down, and let `run` exit."""
        if self._down is None:
            self._down = _DownRequest(grace=grace, done=asyncio.get_running_loop().create_future())
            self.engine.wake.set()
        return await asyncio.shield(self._down.done)

    async def _tear_down(self, request: _DownRequest) -> DownResult:
        log.info("down requested: stopping every service of the project")
        self._say_stopping()
        await self.engine.settle()
        try:
            result = await self.engine.down(grace=request.grace)
        except BaseException as error:
            if not request.done.done():
                request.done.set_exception(error)
            raise
        request.done.set_result(result)
        return result


def _apply_done(result: PassResult, *, wait: bool) -> bool | None:
    """Whether an `apply` through `run` is done after this pass: True converged, False
    done without converging, None keep waiting."""
    plan = result.plan
    if plan.converged:
        return True
    if plan.actions:
        return None
    if wait:
        return False if plan.stuck else None
    return None if plan.progressing else False


def _with_info(report: StatusReport, info: ReconcilerInfo) -> StatusReport:
    return replace(report, reconciler=info)
