"""The engine: observe, plan, act, and again, on one asyncio loop.

A *pass* observes every driver from scratch, gathers each service's inputs (image
digest, ENV_FILE contents) into its fingerprint, plans, and executes the plan's actions:
concurrently across services (at most `parallel` mutations at once), never two for one
service, each logged with its cause. Passes never overlap; whatever wakes the engine
while a pass runs (a save, a runtime event, a backoff timer) is coalesced into the next.

Health probes run beside the passes, one task per running service with a HEALTHCHECK,
and feed the planner's view of readiness (`REQUIRES` gating, `--wait`).

An unreachable runtime is never "nothing exists": a pass that cannot observe does
nothing and reports it, and the next pass tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

from reconciler.controllers.actions import (
    Action,
    Create,
    Record,
    Recreate,
    Reload,
    Remove,
    Start,
    describe,
)
from reconciler.controllers.driver import Driver
from reconciler.controllers.fingerprint import fingerprint
from reconciler.controllers.planner import (
    Inputs,
    Plan,
    PlanInputs,
    ServiceProblem,
    ServiceRuntime,
    plan,
    stop_timeout,
    teardown_waves,
)
from reconciler.controllers.restart import Bookkeeping, record_start
from reconciler.errors import ReconcilerError, RuntimeUnavailable
from reconciler.model import labels
from reconciler.model.desired import (
    CommandCheck,
    DesiredService,
    DesiredStack,
    HttpCheck,
    ServiceMode,
    ServiceName,
)
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ImageMissing
from reconciler.model.observed import (
    Observed,
    ObservedLease,
    ObservedUnit,
    TaskPhase,
    Unreachable,
)
from reconciler.model.status import Health, ServiceState

log = logging.getLogger("reconciler")

DEFAULT_PARALLEL: Final = 8
PROBE_INTERVAL_STARTING: Final = 0.5
PROBE_INTERVAL_HEALTHY: Final = 5.0
PROBE_TIMEOUT: Final = timedelta(seconds=5)
DEFAULT_GRACE: Final = timedelta(seconds=10)
IN_FLIGHT_GRACE: Final = timedelta(seconds=60)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class PassResult:
    """One pass: the plan it made (with statuses), and the errors its actions met."""

    plan: Plan | None
    unreachable: str | None
    errors: tuple[str, ...]

    @property
    def acted(self) -> bool:
        return self.plan is not None and bool(self.plan.actions)


class Engine:
    def __init__(
        self,
        *,
        desired: DesiredStack,
        drivers: Mapping[ServiceMode, Driver],
        parallel: int = DEFAULT_PARALLEL,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.desired = desired
        self._drivers = drivers
        self._gate = asyncio.Semaphore(parallel)
        self._now = now
        self._runtime: dict[ServiceName, ServiceRuntime] = {}
        self._probes: dict[ServiceName, asyncio.Task[None]] = {}
        self._in_flight: dict[str, asyncio.Task[str | None]] = {}
        # Failures that say "try again later" (the runtime was away), by message.
        self._transient: set[str] = set()
        self._inputs: dict[ServiceName, Inputs] = {}
        self.wake = asyncio.Event()

    @property
    def drivers(self) -> Mapping[ServiceMode, Driver]:
        return self._drivers

    def now(self) -> datetime:
        return self._now()

    # -- observation -----------------------------------------------------------------

    async def observe(self) -> Observed | Unreachable:
        merged: list[ObservedUnit] = []
        headless: list[str] = []
        strays: list[str] = []
        leases: list[ObservedLease] = []
        first: Observed | None = None
        for driver in self._drivers.values():
            seen = await driver.observe(self.desired.project)
            if isinstance(seen, Unreachable):
                return seen
            first = first or seen
            merged.extend(seen.units)
            headless.extend(seen.headless_tasks)
            strays.extend(seen.stray_snapshots)
            leases.extend(seen.leases)
        return Observed(
            namespace=self.desired.namespace,
            project=self.desired.project,
            observed_at=self._now(),
            units=tuple(merged),
            headless_tasks=tuple(headless),
            stray_snapshots=tuple(strays),
            leases=tuple(leases),
        )

    async def gather(self, *, fetch: bool) -> dict[ServiceName, Inputs]:
        async def one(service: DesiredService) -> tuple[ServiceName, Inputs]:
            if service.disabled:
                return service.name, ServiceProblem(message="disabled")
            driver = self._drivers.get(service.mode)
            if driver is None:
                problem = f"{service.mode.value} services cannot run here (no driver)"
                return service.name, ServiceProblem(message=problem)
            try:
                gathered = await driver.inputs(service, fetch=fetch)
            except ReconcilerError as error:
                return service.name, ServiceProblem(message=str(error))
            if isinstance(gathered, ImageMissing):
                return service.name, gathered
            return service.name, fingerprint(
                service, image_digest=gathered.image_digest, env_files=gathered.env_files
            )

        pairs = await asyncio.gather(*(one(s) for s in self.desired.services))
        self._inputs = dict(pairs)
        return self._inputs

    # -- passes ----------------------------------------------------------------------

    async def plan_only(self, *, fetch: bool = False) -> tuple[PassResult, Observed | None]:
        """The plan a pass would execute now, and what it was made from; changes nothing."""
        observed = await self.observe()
        if isinstance(observed, Unreachable):
            return PassResult(plan=None, unreachable=observed.reason, errors=()), None
        inputs = await self.gather(fetch=fetch)
        await self._check_unknown_health(observed)
        result = PassResult(plan=self._plan(observed, inputs), unreachable=None, errors=())
        return result, observed

    def _plan(
        self,
        observed: Observed,
        inputs: Mapping[ServiceName, Inputs],
        *,
        reset_failed: bool = False,
        recreate_always: bool = False,
    ) -> Plan:
        return plan(
            PlanInputs(
                desired=self.desired,
                observed=observed,
                now=self._now(),
                inputs=inputs,
                runtime=self._runtime,
                reset_failed=reset_failed,
                recreate_always=recreate_always,
            )
        )

    async def run_pass(
        self,
        *,
        fetch: bool = True,
        reset_failed: bool = False,
        recreate_always: bool = False,
        background: bool = False,
    ) -> PassResult:
        """One pass. With `background`, each service's actions run as a task of their own
        and the pass returns at once: a slow pull for one service never holds back the
        restart of another, and a service with work in flight gets no new work until it
        is done (its completion wakes the next pass)."""
        observed = await self.observe()
        if isinstance(observed, Unreachable):
            log.warning("containerd unreachable, nothing done: %s", observed.reason)
            return PassResult(plan=None, unreachable=observed.reason, errors=())
        inputs = await self.gather(fetch=fetch)
        await self._check_unknown_health(observed)
        self._note_units(observed)
        result = self._plan(
            observed, inputs, reset_failed=reset_failed, recreate_always=recreate_always
        )
        self._update_probes(observed)
        units = {u.id: u for u in observed.units}
        per_service: dict[str, list[Action]] = {}
        for action in result.actions:
            per_service.setdefault(_key(action), []).append(action)

        async def in_order(actions: list[Action]) -> str | None:
            # One service's actions build on each other (record the exit, then restart).
            for action in actions:
                if (error := await self._execute(action, inputs, units)) is not None:
                    return error
            return None

        if background:
            for key, actions in per_service.items():
                running = self._in_flight.get(key)
                if running is None or running.done():
                    self._in_flight[key] = asyncio.create_task(in_order(actions), name=key)
            return PassResult(plan=result, unreachable=None, errors=())
        errors = await asyncio.gather(*(in_order(a) for a in per_service.values()))
        return PassResult(plan=result, unreachable=None, errors=tuple(e for e in errors if e))

    def busy_keys(self) -> set[str]:
        """Services (or orphan units) with background work still in flight."""
        return {key for key, task in self._in_flight.items() if not task.done()}

    async def _execute(
        self,
        action: Action,
        inputs: Mapping[ServiceName, Inputs],
        units: Mapping[str, ObservedUnit],
    ) -> str | None:
        service_name = getattr(action, "service", "")
        service = self.desired.service(service_name) if service_name else None
        if not isinstance(action, Record):
            log.info("%s", describe(action))
        async with self._gate:
            try:
                await self._act(action, service, inputs, units)
            except ReconcilerError as error:
                message = f"{describe(action)}: failed: {error}"
                log.error("%s", message)
                if isinstance(error, RuntimeUnavailable):
                    self._transient.add(message)
                if service is not None:
                    self._set_runtime(service.name, error=str(error))
                return message
        if service is not None:
            self._set_runtime(service.name, error=None)
        self.wake.set()
        return None

    async def _act(
        self,
        action: Action,
        service: DesiredService | None,
        inputs: Mapping[ServiceName, Inputs],
        units: Mapping[str, ObservedUnit],
    ) -> None:
        match action:
            case Create():
                assert service is not None
                await self._create(service, inputs, units)
            case Start(is_restart=is_restart, reset_starts=reset_starts):
                assert service is not None
                await self._start(service, units, is_restart=is_restart, reset_starts=reset_starts)
            case Recreate(unit_id=unit_id, mode=mode):
                assert service is not None
                self._set_runtime(service.name, busy=ServiceState.STOPPING)
                try:
                    await self._drivers[mode].remove(unit_id, grace=service.timeout_stop)
                finally:
                    self._set_runtime(service.name, busy=None)
                await self._create(service, inputs, {})
            case Reload(unit_id=unit_id, mode=mode):
                assert service is not None
                await self._reload(service, unit_id, mode, inputs)
            case Remove(unit_id=unit_id, mode=mode, grace=grace):
                fallback = service.timeout_stop if service else DEFAULT_GRACE
                await self._drivers[mode].remove(
                    unit_id, grace=grace if grace is not None else fallback
                )
                if service is not None:
                    self._set_runtime(service.name, observed=False)
            case Record(unit_id=unit_id, mode=mode, labels=changes):
                await self._drivers[mode].annotate(unit_id, changes)

    async def _reload(
        self,
        service: DesiredService,
        unit_id: str,
        mode: ServiceMode,
        inputs: Mapping[ServiceName, Inputs],
    ) -> None:
        """RELOAD, or when it fails, what a config change otherwise gets: a recreate."""
        fp = inputs.get(service.name)
        assert isinstance(fp, Fingerprint)
        try:
            await self._drivers[mode].reload(service, fp)
        except ReconcilerError as error:
            log.warning("reload %s failed (%s); recreating it", service.name, error)
            await self._drivers[mode].remove(unit_id, grace=service.timeout_stop)
            await self._create(service, inputs, {})

    async def _create(
        self,
        service: DesiredService,
        inputs: Mapping[ServiceName, Inputs],
        units: Mapping[str, ObservedUnit],
    ) -> None:
        driver = self._drivers[service.mode]
        gathered = inputs.get(service.name)
        if isinstance(gathered, ServiceProblem):
            raise ReconcilerError(gathered.message)
        if isinstance(gathered, Fingerprint):
            fp = gathered
        else:
            self._set_runtime(service.name, busy=ServiceState.PULLING)
            try:
                fresh = await driver.inputs(service, fetch=True)
            finally:
                self._set_runtime(service.name, busy=None)
            if isinstance(fresh, ImageMissing):
                raise ReconcilerError(f"service '{service.name}': image {fresh.reference} missing")
            fp = fingerprint(service, image_digest=fresh.image_digest, env_files=fresh.env_files)
        self._set_runtime(service.name, busy=ServiceState.CREATING)
        try:
            await driver.create(service, fp)
        finally:
            self._set_runtime(service.name, busy=None)
        await self._start(service, units, is_restart=False)

    async def _start(
        self,
        service: DesiredService,
        units: Mapping[str, ObservedUnit],
        *,
        is_restart: bool,
        reset_starts: bool = False,
    ) -> None:
        driver = self._drivers[service.mode]
        unit_id = labels.container_id(self.desired.project, service.name)
        unit = units.get(unit_id)
        book = Bookkeeping.from_labels(unit.labels) if unit is not None else Bookkeeping()
        if reset_starts:
            book = replace(book, recent_starts=())
        now = self._now()
        self._set_runtime(service.name, busy=ServiceState.STARTING)
        try:
            await driver.start(service)
        finally:
            self._set_runtime(service.name, busy=None)
        after = record_start(service, book, at=now, is_restart=is_restart)
        # Only what a start changes: the exit's bookkeeping was recorded before it.
        await driver.annotate(unit_id, {**after.start_labels(), labels.STARTED_AT: now.isoformat()})
        health = Health.STARTING if service.healthcheck is not None else Health.NONE
        self._set_runtime(service.name, health=health, since=now)

    def _note_units(self, observed: Observed) -> None:
        """Remember which services had a unit, so one that vanishes is drift."""
        present = {u.service for u in observed.units if u.project == self.desired.project}
        for service in self.desired.services:
            if service.name in present and not self.runtime(service.name).observed:
                self._set_runtime(service.name, observed=True)

    def _set_runtime(self, name: ServiceName, **changes: object) -> None:
        current = self._runtime.get(name, ServiceRuntime())
        self._runtime[name] = replace(current, **changes)  # type: ignore[arg-type]

    # -- health --------------------------------------------------------------------------

    async def _check_unknown_health(self, observed: Observed) -> None:
        """Probe once every running service with a HEALTHCHECK whose health this process
        has not seen yet (a fresh `status`, `plan` or `apply` of a running stack)."""
        unknown = [
            service
            for service in self.desired.services
            if service.healthcheck is not None
            and service.name not in self._runtime
            and any(
                u.task is not None and u.task.phase is TaskPhase.RUNNING
                for u in observed.of_service(service.name)
            )
        ]

        async def check(service: DesiredService) -> None:
            unit_id = labels.container_id(self.desired.project, service.name)
            healthy = await self.probe_once(service, unit_id)
            self._set_runtime(service.name, health=Health.HEALTHY if healthy else Health.UNHEALTHY)

        await asyncio.gather(*(check(s) for s in unknown))

    def _update_probes(self, observed: Observed) -> None:
        running = {
            u.service
            for u in observed.units
            if u.task is not None and u.task.phase is TaskPhase.RUNNING
        }
        for service in self.desired.services:
            wanted = service.healthcheck is not None and service.name in running
            task = self._probes.get(service.name)
            if wanted and (task is None or task.done()):
                self._probes[service.name] = asyncio.create_task(
                    self._probe_loop(service), name=f"probe {service.name}"
                )
            elif not wanted and task is not None:
                task.cancel()
                del self._probes[service.name]
                if service.healthcheck is not None:
                    self._set_runtime(service.name, health=Health.STARTING)

    async def _probe_loop(self, service: DesiredService) -> None:
        started = self._now()
        unit_id = labels.container_id(self.desired.project, service.name)
        while True:
            healthy = await self.probe_once(service, unit_id)
            current = self._runtime.get(service.name, ServiceRuntime()).health
            if healthy:
                new = Health.HEALTHY
            elif self._now() - started > service.readiness_timeout:
                new = Health.UNHEALTHY
            else:
                new = Health.STARTING if current is not Health.HEALTHY else Health.UNHEALTHY
            if new is not current:
                log.info("%s is %s", service.name, new.value)
                self._set_runtime(service.name, health=new)
                self.wake.set()
            interval = PROBE_INTERVAL_HEALTHY if healthy else PROBE_INTERVAL_STARTING
            await asyncio.sleep(interval)

    async def probe_once(self, service: DesiredService, unit_id: str) -> bool:
        match service.healthcheck:
            case HttpCheck(url=url):
                return await asyncio.to_thread(_http_ok, url, PROBE_TIMEOUT.total_seconds())
            case CommandCheck(command=command):
                try:
                    code = await self._drivers[service.mode].check(
                        unit_id, command, limit=PROBE_TIMEOUT
                    )
                except ReconcilerError:
                    return False
                return code == 0
            case None:
                return True

    async def close(self) -> None:
        """Let work in flight finish (a create is not cut in half), then stop the probes."""
        pending = [task for task in self._in_flight.values() if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=IN_FLIGHT_GRACE.total_seconds())
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for task in self._probes.values():
            task.cancel()
        await asyncio.gather(*self._probes.values(), return_exceptions=True)
        self._probes.clear()

    def runtime(self, name: ServiceName) -> ServiceRuntime:
        return self._runtime.get(name, ServiceRuntime())

    # -- apply and down ------------------------------------------------------------------

    async def apply(self, *, wait: bool, limit: timedelta) -> PassResult:
        """Converge: passes until nothing is left to do (and, with `wait`, until every
        service runs and is healthy, oneshots completed), or `limit` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit.total_seconds()
        first = True
        failed_before: frozenset[str] = frozenset()
        result = PassResult(plan=None, unreachable="not observed yet", errors=())
        while loop.time() < deadline:
            self.wake.clear()
            result = await self.run_pass(reset_failed=first, recreate_always=first)
            if result.plan is not None:
                first = False
            failed = frozenset(result.errors) - self._transient
            if failed and failed == failed_before:
                return result  # the same actions failed twice in a row: retrying won't help
            failed_before = failed
            if result.acted and not result.errors:
                continue
            if result.plan is not None and (
                result.plan.converged or (not wait and not progressing(result.plan))
            ):
                return result
            pause = _next_wake(result, loop.time(), deadline, self._now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), pause)
        return result

    async def down(self, *, grace: timedelta | None = None) -> list[str]:
        """Stop and delete every unit of the project, dependents first; the errors.
        `grace` replaces every service's TIMEOUT_STOP (`down --timeout`)."""
        observed = await self.observe()
        if isinstance(observed, Unreachable):
            raise ReconcilerError(f"cannot reach the runtime: {observed.reason}")
        errors: list[str] = []
        for wave in teardown_waves(self.desired, observed):
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
            results = await asyncio.gather(*(self._execute(a, {}, {}) for a in actions))
            errors.extend(r for r in results if r)
        for driver in self._drivers.values():
            try:
                await driver.release_leases()
            except ReconcilerError as error:
                errors.append(f"release leases: {error}")
        return errors


def _key(action: Action) -> str:
    """The service an action concerns (an orphan's unit id when it has none)."""
    match action:
        case Remove(service=service, unit_id=unit_id):
            return service or unit_id
        case Create(service=service) | Start(service=service):
            return service
        case Recreate(service=service) | Reload(service=service) | Record(service=service):
            return service


def progressing(result: Plan) -> bool:
    """Some service is on its way (starting, waiting for a dependency that is starting,
    backing off before a restart): a plain `apply` keeps going for it."""
    moving = {ServiceState.STARTING, ServiceState.CREATING, ServiceState.PULLING}
    for status in result.statuses:
        if status.state in moving or status.health is Health.STARTING:
            return True
        if status.desired == "completed" and status.state is ServiceState.RUNNING:
            return True  # a oneshot at work: what REQUIRES it waits for its completion
        if (
            status.state is ServiceState.BLOCKED
            and status.reason
            and ("starting" in status.reason or "not checked" in status.reason)
        ):
            return True
    return False


def _next_wake(result: PassResult, now: float, deadline: float, wall: datetime) -> float:
    pause = min(1.0, max(0.0, deadline - now))
    if result.plan is not None and result.plan.requeue_at:
        soonest = min(result.plan.requeue_at.values())
        pause = min(pause, max(0.0, (soonest - wall).total_seconds()))
    return max(pause, 0.05)


def _http_ok(url: str, timeout: float) -> bool:
    request = urllib.request.Request(url, method="GET")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False
