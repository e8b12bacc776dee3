"""Executing a plan's actions through the drivers, one service's actions in order.

Why this exists: the planner decides, the drivers act; between them something must say
what is in flight (so `status` shows `creating web` and the planner gives a busy
service no new work), publish each action's start and end with its cause and duration,
write the start bookkeeping, and turn a failure into a typed outcome: retryable or not,
by the error's branch of the tree, never by its text. That is this module.

An action on a unit that vanished meanwhile (deleted behind our back) is not a failure:
the next pass sees the deletion and repairs it, with one line that says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from types import MappingProxyType
from typing import Final

from reconciler.app.project_data import forget_service_logs
from reconciler.clock import Clock
from reconciler.controllers.actions import (
    Action,
    Create,
    ExitNote,
    Record,
    Recreate,
    Reload,
    Remove,
    Start,
    subject,
    verb,
)
from reconciler.controllers.binding import bound_to_label
from reconciler.controllers.driver import Driver
from reconciler.controllers.fingerprint import fingerprint
from reconciler.controllers.knowledge import KnowledgeBook, Setback
from reconciler.controllers.plan import Inputs, ServiceProblem
from reconciler.controllers.restart import Bookkeeping, backoff, record_start
from reconciler.errors import NotFound, ReconcilerError, Retryable
from reconciler.model import labels
from reconciler.model.desired import DesiredService, DesiredStack, ServiceMode, ServiceName
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ImageMissing
from reconciler.model.journal import (
    ActionFinished,
    ActionStarted,
    Entry,
    ExitOutcome,
    GaveUp,
    Stopping,
    TaskExited,
)
from reconciler.model.observed import Observed, ObservedUnit, TaskPhase
from reconciler.model.secret import Secret, redact
from reconciler.model.status import Activity, Health, ServiceState, Verb
from reconciler.oserrors import host_error

log = logging.getLogger("reconciler")

DEFAULT_GRACE: Final = timedelta(seconds=10)
# The first retry of a failed action; each failure in a row doubles it, up to 5 minutes.
SETBACK_DELAY: Final = timedelta(seconds=1)

PublishFn = Callable[[Entry], None]
StartedFn = Callable[[ServiceName], None]


@dataclass(frozen=True, kw_only=True)
class ActionFailure:
    """An action that failed: whose, which, why, and whether trying again may help."""

    service: str
    verb: Verb
    message: str
    retryable: bool


class _Vanished(Exception):
    """The unit an action needed is gone; the next pass repairs that."""


# What a (re)started or removed service's health knowledge starts over from.
_FRESH_HEALTH: Final[Mapping[str, object]] = MappingProxyType(
    {
        "health": Health.NONE,
        "probe": None,
        "healthy_once": False,
        "failed_checks": 0,
        "unhealthy_since": None,
    }
)


class Executor:
    def __init__(
        self,
        *,
        drivers: Mapping[ServiceMode, Driver],
        clock: Clock,
        knowledge: KnowledgeBook,
        publish: PublishFn,
        gate: asyncio.Semaphore,
        on_started: StartedFn,
        fingerprint_key: bytes,
        secrets: Callable[[], Iterable[Secret]] = tuple,
    ) -> None:
        """`secrets` are the values an error from elsewhere could quote (ENV, ENV_FILE
        contents): failures are redacted before anyone sees them."""
        self._drivers = drivers
        self._clock = clock
        self._knowledge = knowledge
        self._publish = publish
        self._gate = gate
        self._on_started = on_started
        self._secrets = secrets
        self._fingerprint_key = fingerprint_key

    async def run(
        self,
        desired: DesiredStack,
        action: Action,
        inputs: Mapping[ServiceName, Inputs],
        units: Mapping[str, ObservedUnit],
    ) -> ActionFailure | None:
        """Execute one action; None when it succeeded (or its unit vanished meanwhile)."""
        name = subject(action)
        service = desired.service(name)
        started = self._clock.monotonic()
        if not isinstance(action, Record):
            self._publish(
                ActionStarted(
                    at=self._clock.now(), service=name, verb=verb(action), cause=action.cause
                )
            )
        async with self._gate:
            try:
                await self._act(desired, action, service, inputs, units)
            except _Vanished:
                log.debug("%s vanished during %s; the next pass repairs it", name, verb(action))
                return None
            except ReconcilerError as error:
                return self._failed(action, service, error, started)
            except OSError as error:
                # A driver's write refused for want of a resource or a right (a full
                # disk): the service's failure, named, not the end of `run`.
                refused = host_error(error)
                if refused is None:
                    raise
                return self._failed(action, service, refused, started)
            finally:
                if service is not None:
                    self._knowledge.update(service.name, activity=None)
        if service is not None:
            self._knowledge.update(service.name, setback=None)
        if not isinstance(action, Record):
            self._publish(
                ActionFinished(
                    at=self._clock.now(),
                    service=name,
                    verb=verb(action),
                    cause=action.cause,
                    duration=timedelta(seconds=self._clock.monotonic() - started),
                )
            )
        return None

    def _failed(
        self,
        action: Action,
        service: DesiredService | None,
        error: ReconcilerError,
        started: float,
    ) -> ActionFailure:
        retryable = isinstance(error, Retryable)
        message = redact(str(error), self._secrets())
        if service is not None:
            prior = self._knowledge.get(service.name).setback
            streak = prior.streak + 1 if prior is not None else 1
            same = prior is not None and not prior.retryable and prior.message == message
            self._knowledge.update(
                service.name,
                setback=Setback(
                    message=message,
                    retryable=retryable,
                    streak=streak,
                    repeats=0 if retryable else (prior.repeats + 1 if same and prior else 1),
                    retry_at=self._clock.now() + backoff(SETBACK_DELAY, streak),
                    believed_after=error.believed_after,
                ),
            )
        self._publish(
            ActionFinished(
                at=self._clock.now(),
                service=subject(action),
                verb=verb(action),
                cause=action.cause,
                duration=timedelta(seconds=self._clock.monotonic() - started),
                error=message,
                retrying=retryable,
            )
        )
        return ActionFailure(
            service=subject(action), verb=verb(action), message=message, retryable=retryable
        )

    def _step(self, service: DesiredService, action: Action, step: ServiceState) -> None:
        self._knowledge.update(
            service.name,
            activity=Activity(
                verb=verb(action), cause=action.cause, since=self._clock.now(), step=step
            ),
        )

    async def _act(
        self,
        desired: DesiredStack,
        action: Action,
        service: DesiredService | None,
        inputs: Mapping[ServiceName, Inputs],
        units: Mapping[str, ObservedUnit],
    ) -> None:
        match action:
            case Create():
                assert service is not None
                await self._create(desired, action, service, inputs.get(service.name), units)
            case Start(is_restart=is_restart, reset_starts=reset_starts, stop_first=stop_first):
                assert service is not None
                if stop_first:
                    await self._stop_task(action, service, desired, units)
                await self._start(
                    desired, action, service, units, is_restart=is_restart, reset=reset_starts
                )
            case Recreate(unit_id=unit_id, mode=mode):
                assert service is not None
                await self._stop(action, service, unit_id, mode, units.get(unit_id))
                # A new unit: no bookkeeping of the old one, but what it requires is still
                # where it was.
                fresh = {u.id: u for u in units.values() if u.id != unit_id}
                await self._create(desired, action, service, inputs.get(service.name), fresh)
            case Reload():
                assert service is not None
                await self._reload(desired, action, service, inputs.get(service.name))
            case Remove(unit_id=unit_id, mode=mode, service=name):
                await self._stop(action, service, unit_id, mode, units.get(unit_id))
                if service is None and name:
                    # A service removed from the Orchfile takes its default log files
                    # along, as a container's log goes with the container.
                    await asyncio.to_thread(forget_service_logs, desired.paths.logs, name)
            case Record(unit_id=unit_id, mode=mode, labels=changes, exit=note):
                await self._annotate(desired, mode, unit_id, changes)
                if note is not None:
                    self._report_exit(action.service, note)

    async def _create(
        self,
        desired: DesiredStack,
        action: Action,
        service: DesiredService,
        gathered: Inputs | None,
        units: Mapping[str, ObservedUnit],
    ) -> None:
        driver = self._drivers[service.mode]
        if isinstance(gathered, ServiceProblem):
            raise ReconcilerError(gathered.message)
        if isinstance(gathered, Fingerprint):
            fp = gathered
        else:
            self._step(service, action, ServiceState.PULLING)
            fresh = await driver.inputs(service, fetch=True)
            if isinstance(fresh, ImageMissing):
                raise ReconcilerError(f"service '{service.name}': image {fresh.reference} missing")
            fp = fingerprint(
                service,
                image_digest=fresh.image_digest,
                env_files=fresh.env_files,
                key=self._fingerprint_key,
            )
        self._step(service, action, ServiceState.CREATING)
        await driver.create(service, fp)
        await self._start(desired, action, service, units, is_restart=False, reset=False)

    async def _start(
        self,
        desired: DesiredStack,
        action: Action,
        service: DesiredService,
        units: Mapping[str, ObservedUnit],
        *,
        is_restart: bool,
        reset: bool,
    ) -> None:
        driver = self._drivers[service.mode]
        unit_id = labels.container_id(desired.project, service.name)
        unit = units.get(unit_id)
        book = Bookkeeping.from_labels(unit.labels) if unit is not None else Bookkeeping()
        if reset:
            book = replace(book, recent_starts=())
        now = self._clock.now()
        self._step(service, action, ServiceState.STARTING)
        try:
            await driver.start(service)
        except NotFound as error:
            await self._vanished_or_raise(desired, service.mode, unit_id, error)
        after = record_start(service, book, at=now, is_restart=is_restart)
        # Only what a start changes: the exit's bookkeeping was recorded before it. And
        # which start of each service it REQUIRES this one began with (BindsTo).
        await driver.annotate(
            unit_id,
            {
                **after.start_labels(),
                labels.STARTED_AT: now.isoformat(),
                labels.BOUND_TO: bound_to_label(service, desired.project, units) or None,
            },
        )
        self._knowledge.update(service.name, since=now, **_FRESH_HEALTH)
        self._on_started(service.name)

    async def _stop_task(
        self,
        action: Action,
        service: DesiredService,
        desired: DesiredStack,
        units: Mapping[str, ObservedUnit],
    ) -> None:
        """Stop the service's running process, keeping its unit, before a restart."""
        unit_id = labels.container_id(desired.project, service.name)
        grace = service.timeout_stop
        self._step(service, action, ServiceState.STOPPING)
        self._publish(
            Stopping(
                at=self._clock.now(),
                service=service.name,
                signal=_stop_signal(service.mode, service, units.get(unit_id)),
                grace=grace,
            )
        )
        await self._drivers[service.mode].stop(unit_id, grace=grace)

    async def _stop(
        self,
        action: Action,
        service: DesiredService | None,
        unit_id: str,
        mode: ServiceMode,
        unit: ObservedUnit | None,
    ) -> None:
        grace = self._grace(action, service)
        if service is not None:
            self._step(service, action, ServiceState.STOPPING)
        if unit is None or (unit.task is not None and unit.task.phase is TaskPhase.RUNNING):
            self._publish(
                Stopping(
                    at=self._clock.now(),
                    service=subject(action),
                    signal=_stop_signal(mode, service, unit),
                    grace=grace,
                )
            )
        await self._drivers[mode].remove(unit_id, grace=grace)
        if service is not None:
            self._knowledge.update(service.name, observed=False, **_FRESH_HEALTH)

    def _grace(self, action: Action, service: DesiredService | None) -> timedelta:
        if isinstance(action, Remove) and action.grace is not None:
            return action.grace
        return service.timeout_stop if service is not None else DEFAULT_GRACE

    async def _reload(
        self,
        desired: DesiredStack,
        action: Reload,
        service: DesiredService,
        gathered: Inputs | None,
    ) -> None:
        """RELOAD, or when it fails, what a config change otherwise gets: a recreate."""
        assert isinstance(gathered, Fingerprint)
        try:
            await self._drivers[action.mode].reload(service, gathered)
        except ReconcilerError as error:
            log.warning("reload %s failed (%s); recreating it", service.name, error)
            await self._stop(action, service, action.unit_id, action.mode, None)
            await self._create(desired, action, service, gathered, {})

    async def _annotate(
        self,
        desired: DesiredStack,
        mode: ServiceMode,
        unit_id: str,
        changes: Mapping[str, str | None],
    ) -> None:
        try:
            await self._drivers[mode].annotate(unit_id, changes)
        except NotFound as error:
            await self._vanished_or_raise(desired, mode, unit_id, error)

    async def _vanished_or_raise(
        self, desired: DesiredStack, mode: ServiceMode, unit_id: str, error: NotFound
    ) -> None:
        seen = await self._drivers[mode].observe(desired.project)
        if isinstance(seen, Observed) and seen.unit(unit_id) is None:
            raise _Vanished from error
        raise error

    def _report_exit(self, service: ServiceName, note: ExitNote) -> None:
        now = self._clock.now()
        self._publish(
            TaskExited(
                at=now,
                service=service,
                exit_code=note.exit_code,
                oom_killed=note.oom_killed,
                outcome=note.outcome,
                delay=note.delay,
            )
        )
        if note.outcome is ExitOutcome.GAVE_UP and note.interval is not None:
            self._publish(
                GaveUp(at=now, service=service, starts=note.starts, interval=note.interval)
            )


def _stop_signal(
    mode: ServiceMode, service: DesiredService | None, unit: ObservedUnit | None
) -> str:
    if mode is ServiceMode.HOST and service is not None and service.stop_command is not None:
        return "STOP command"
    if unit is not None and (signal := unit.labels.get(labels.STOP_SIGNAL)):
        return signal
    return "SIGTERM"
