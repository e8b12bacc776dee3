"""The engine: observe, plan, act, and again, on one asyncio loop.

A *pass* observes every driver from scratch, gathers each service's inputs (image
digest, ENV_FILE contents) into its fingerprint, plans, and hands the plan's actions to
the executor: concurrently across services (at most `parallel` mutations at once),
never two for one service. Passes never overlap; whatever wakes the engine while a pass
runs (a save, a runtime event, a backoff timer, finished work) is coalesced into the
next. Health probes run beside the passes (`health.Prober`).

A runtime that cannot be asked is never "nothing exists": its services stay `pending`
until it answers, and the other runtime's services are reconciled meanwhile. Losing and
regaining a runtime is published once each (`RuntimeLost`, `RuntimeBack`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from reconciler.app.execution import ActionFailure, Executor
from reconciler.app.health import Prober
from reconciler.app.journal import Journal
from reconciler.app.results import DownResult
from reconciler.clock import Clock
from reconciler.controllers.actions import Action, Remove, subject
from reconciler.controllers.driver import Driver
from reconciler.controllers.fingerprint import fingerprint
from reconciler.controllers.knowledge import KnowledgeBook
from reconciler.controllers.ordering import stop_timeout, teardown_waves
from reconciler.controllers.plan import Inputs, Plan, PlanInputs, ServiceProblem
from reconciler.controllers.planner import plan
from reconciler.controllers.projection import Projection, project
from reconciler.errors import ReconcilerError, Retryable
from reconciler.model.desired import (
    DesiredService,
    DesiredStack,
    ServiceMode,
    ServiceName,
    image_text,
)
from reconciler.model.inputs import ImageMissing
from reconciler.model.journal import RuntimeBack, RuntimeLost
from reconciler.model.observed import (
    Observed,
    ObservedLease,
    ObservedUnit,
    RuntimeFacts,
    Unreachable,
)
from reconciler.model.secret import Secret, redact
from reconciler.model.status import RuntimeReach

log = logging.getLogger("reconciler")

DEFAULT_PARALLEL: Final = 8
IN_FLIGHT_GRACE: Final = timedelta(seconds=60)
APPLY_RECHECK: Final = 1.0
MIN_PAUSE: Final = 0.05


@dataclass(frozen=True, kw_only=True)
class PassResult:
    """One pass: what it saw, the plan it made (with statuses), and what failed."""

    observed: Observed
    plan: Plan
    failures: tuple[ActionFailure, ...] = ()

    @property
    def acted(self) -> bool:
        return bool(self.plan.actions)


class Engine:
    def __init__(
        self,
        *,
        desired: DesiredStack,
        drivers: Mapping[ServiceMode, Driver],
        clock: Clock,
        fingerprint_key: bytes,
        journal: Journal | None = None,
        parallel: int = DEFAULT_PARALLEL,
    ) -> None:
        """`fingerprint_key` keys every configuration digest (`app.fingerprint_key`)."""
        self.desired = desired
        self._fingerprint_key = fingerprint_key
        self._drivers = drivers
        self._clock = clock
        self.journal = journal or Journal()
        self.knowledge = KnowledgeBook()
        self.wake = asyncio.Event()
        self._in_flight: dict[str, asyncio.Task[ActionFailure | None]] = {}
        # When each service's last background work ended (monotonic): a pass that began
        # observing before that saw the service as it was, and must not act on it.
        self._finished: dict[str, float] = {}
        self._reach: dict[ServiceMode, RuntimeReach] = {
            mode: RuntimeReach(mode=mode, reachable=True) for mode in drivers
        }
        self.last_observed: Observed | None = None
        self._last_inputs: Mapping[ServiceName, Inputs] = {}
        self._prober = Prober(
            drivers=drivers,
            clock=clock,
            knowledge=self.knowledge.get,
            update=self.knowledge.update,
            publish=self.journal.publish,
            on_change=self.wake.set,
        )
        self._executor = Executor(
            drivers=drivers,
            clock=clock,
            knowledge=self.knowledge,
            publish=self.journal.publish,
            gate=asyncio.Semaphore(parallel),
            on_started=self._prober.forget,
            secrets=self.secrets,
            fingerprint_key=fingerprint_key,
        )
        self._env_file_values: dict[ServiceName, tuple[Secret, ...]] = {}

    def secrets(self) -> list[Secret]:
        """Every value an error could quote: the ENV of each service, and the ENV_FILE
        contents last read."""
        found = [value for s in self.desired.services for value in s.env.values()]
        found += [value for values in self._env_file_values.values() for value in values]
        return found

    @property
    def drivers(self) -> Mapping[ServiceMode, Driver]:
        return self._drivers

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def busy(self) -> bool:
        """Work dispatched in the background is still in flight."""
        return any(not task.done() for task in self._in_flight.values())

    @property
    def runtimes(self) -> tuple[RuntimeReach, ...]:
        return tuple(self._reach.values())

    # -- observation -----------------------------------------------------------------

    async def observe(self) -> Observed:
        """Every driver's view merged; a driver that cannot be asked is named in
        `unreachable`, and its loss and return are published once each."""
        units: list[ObservedUnit] = []
        headless: list[str] = []
        strays: list[str] = []
        leases: list[ObservedLease] = []
        unreachable: dict[ServiceMode, str] = {}
        runtime: RuntimeFacts | None = None
        for mode, driver in self._drivers.items():
            seen = await driver.observe(self.desired.project)
            self._note_reach(mode, seen)
            if isinstance(seen, Unreachable):
                unreachable[mode] = seen.reason
                continue
            units.extend(seen.units)
            headless.extend(seen.headless_tasks)
            strays.extend(seen.stray_snapshots)
            leases.extend(seen.leases)
            runtime = runtime or seen.runtime
        observed = Observed(
            namespace=self.desired.namespace,
            project=self.desired.project,
            observed_at=self._clock.now(),
            units=tuple(units),
            headless_tasks=tuple(headless),
            stray_snapshots=tuple(strays),
            leases=tuple(leases),
            unreachable=unreachable,
            runtime=runtime,
        )
        self.last_observed = observed
        return observed

    def _note_reach(self, mode: ServiceMode, seen: Observed | Unreachable) -> None:
        before = self._reach[mode]
        now = self._clock.now()
        if isinstance(seen, Unreachable) and before.reachable:
            self._reach[mode] = RuntimeReach(
                mode=mode, reachable=False, since=now, reason=seen.reason
            )
            self.journal.publish(RuntimeLost(at=now, mode=mode, reason=seen.reason))
        elif isinstance(seen, Unreachable):
            self._reach[mode] = RuntimeReach(
                mode=mode, reachable=False, since=before.since, reason=seen.reason
            )
        elif not before.reachable:
            self._reach[mode] = RuntimeReach(mode=mode, reachable=True)
            lost = before.since or now
            self.journal.publish(RuntimeBack(at=now, mode=mode, after=now - lost))

    async def gather(
        self, observed: Observed, *, fetch: bool, look_up: bool = False
    ) -> dict[ServiceName, Inputs]:
        """Each service's inputs. With `look_up` (for `plan`), a runtime that is not
        running yet counts as empty: `apply` would start it and fetch every image."""

        async def one(service: DesiredService) -> tuple[ServiceName, Inputs]:
            if service.disabled:
                return service.name, ServiceProblem(message="disabled")
            driver = self._drivers.get(service.mode)
            if driver is None and look_up:
                return service.name, ImageMissing(reference=image_text(service.image) or "")
            if driver is None:
                # Only containerd can be missing: no daemon answered when this started.
                problem = "no containerd is running (`reconciler run` or `apply` starts one)"
                return service.name, ServiceProblem(message=problem, retryable=True)
            if service.mode in observed.unreachable:
                return service.name, ServiceProblem(message="unreachable", retryable=True)
            try:
                gathered = await driver.inputs(service, fetch=fetch, look_up=look_up)
            except ReconcilerError as error:
                retryable = isinstance(error, Retryable)
                message = redact(str(error), self.secrets())
                return service.name, ServiceProblem(message=message, retryable=retryable)
            if isinstance(gathered, ImageMissing):
                return service.name, gathered
            self._env_file_values[service.name] = tuple(
                value for content in gathered.env_files for value in content.values()
            )
            return service.name, fingerprint(
                service,
                image_digest=gathered.image_digest,
                env_files=gathered.env_files,
                key=self._fingerprint_key,
            )

        pairs = await asyncio.gather(*(one(s) for s in self.desired.services))
        return dict(pairs)

    # -- passes ----------------------------------------------------------------------

    async def plan_only(self, *, fetch: bool = False) -> PassResult:
        """The plan a pass would execute now, and what it was made from; changes nothing."""
        observed = await self.observe()
        inputs = await self.gather(observed, fetch=fetch)
        await self._prober.check_unknown(self.desired, observed)
        return PassResult(observed=observed, plan=self._plan(observed, inputs))

    async def projection(self, *, look_up: bool) -> tuple[Observed, Projection]:
        """Everything `apply` would do from here, in order (`controllers.projection`);
        with `look_up`, registry tags are resolved as `apply`'s pull would. Changes
        nothing."""
        observed = await self.observe()
        inputs = await self.gather(observed, fetch=False, look_up=look_up)
        await self._prober.check_unknown(self.desired, observed)
        everyone = frozenset(s.name for s in self.desired.services)
        return observed, project(
            self._plan_inputs(observed, inputs, reset_failed=everyone, recreate_always=True)
        )

    def replan(self, observed: Observed) -> Plan:
        """The plan for `observed` (the last pass's) with what is known now: no runtime
        call, for a status between passes."""
        return self._plan(observed, self._last_inputs)

    def _plan(
        self,
        observed: Observed,
        inputs: Mapping[ServiceName, Inputs],
        *,
        reset_failed: frozenset[ServiceName] = frozenset(),
        recreate: frozenset[ServiceName] = frozenset(),
        recreate_always: bool = False,
    ) -> Plan:
        return plan(
            self._plan_inputs(
                observed,
                inputs,
                reset_failed=reset_failed,
                recreate=recreate,
                recreate_always=recreate_always,
            )
        )

    def _plan_inputs(
        self,
        observed: Observed,
        inputs: Mapping[ServiceName, Inputs],
        *,
        reset_failed: frozenset[ServiceName],
        recreate: frozenset[ServiceName] = frozenset(),
        recreate_always: bool,
    ) -> PlanInputs:
        return PlanInputs(
            desired=self.desired,
            observed=observed,
            now=self._clock.now(),
            gathered=inputs,
            knowledge=self.knowledge.view(),
            reset_failed=reset_failed,
            recreate=recreate,
            recreate_always=recreate_always,
        )

    async def run_pass(
        self,
        *,
        fetch: bool = True,
        reset_failed: frozenset[ServiceName] = frozenset(),
        recreate: frozenset[ServiceName] = frozenset(),
        recreate_always: bool = False,
        background: bool = False,
    ) -> PassResult:
        """One pass. With `background`, each service's actions run as a task of their own
        and the pass returns at once: a slow pull for one service never holds back the
        restart of another, and a service with work in flight gets no new work until it
        is done (its completion wakes the next pass)."""
        for name in reset_failed | recreate:
            self.knowledge.update(name, setback=None)
        began = self._clock.monotonic()
        observed = await self.observe()
        await self._tidy(observed)
        inputs = await self.gather(observed, fetch=fetch)
        self._last_inputs = inputs
        await self._prober.check_unknown(self.desired, observed)
        self._note_units(observed)
        result = self._plan(
            observed,
            inputs,
            reset_failed=reset_failed,
            recreate=recreate,
            recreate_always=recreate_always,
        )
        self._prober.follow(self.desired, observed)
        units = {u.id: u for u in observed.units}
        per_service: dict[str, list[Action]] = {}
        for action in result.actions:
            per_service.setdefault(subject(action), []).append(action)
        desired = self.desired

        async def in_order(key: str, actions: list[Action]) -> ActionFailure | None:
            # One service's actions build on each other (record the exit, then restart).
            try:
                for action in actions:
                    if failure := await self._executor.run(desired, action, inputs, units):
                        return failure
                return None
            finally:
                self._finished[key] = self._clock.monotonic()
                self.wake.set()

        if background:
            for key, actions in per_service.items():
                running = self._in_flight.get(key)
                busy = running is not None and not running.done()
                if not busy and self._finished.get(key, -1.0) < began:
                    self._in_flight[key] = asyncio.create_task(in_order(key, actions), name=key)
            return PassResult(observed=observed, plan=result)
        outcomes = await asyncio.gather(*(in_order(k, a) for k, a in per_service.items()))
        return PassResult(
            observed=observed, plan=result, failures=tuple(f for f in outcomes if f is not None)
        )

    async def _tidy(self, observed: Observed) -> None:
        """Let each reachable driver clear what an interrupted process left (a network
        attachment without its container); a failure is retried next pass."""
        for mode, driver in self._drivers.items():
            if mode in observed.unreachable:
                continue
            try:
                await driver.tidy(observed)
            except ReconcilerError as error:
                log.warning("tidying %s leftovers: %s", mode.value, error)

    def _note_units(self, observed: Observed) -> None:
        """Remember which services had a unit, so one that vanishes is drift."""
        present = {u.service for u in observed.units if u.project == self.desired.project}
        for service in self.desired.services:
            if service.name in present and not self.knowledge.get(service.name).observed:
                self.knowledge.update(service.name, observed=True)

    async def settle(self, limit: timedelta = IN_FLIGHT_GRACE) -> None:
        """Let work in flight finish (a create is not cut in half), up to `limit`."""
        pending = [task for task in self._in_flight.values() if not task.done()]
        if not pending:
            return
        try:
            await self._clock.wait_for(asyncio.gather(*pending), limit.total_seconds())
        except TimeoutError:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def close(self) -> None:
        """Let work in flight finish, then stop the probes."""
        await self.settle()
        await self._prober.close()

    # -- apply and down ------------------------------------------------------------------

    async def apply(
        self, *, wait: bool, limit: timedelta, recreate: frozenset[ServiceName] = frozenset()
    ) -> PassResult:
        """Converge: passes until nothing is left to do (and, with `wait`, until every
        service runs and is healthy, oneshots completed), until a service is stuck, or
        until `limit` passes. The first pass resets `failed` services and recreates the
        `recreate` ones (`restart`)."""
        deadline = self._clock.deadline(limit)
        first = True
        result: PassResult | None = None
        while result is None or not deadline.passed:
            self.wake.clear()
            everyone = frozenset(s.name for s in self.desired.services) if first else frozenset()
            result = await self.run_pass(
                reset_failed=everyone,
                recreate=recreate if first else frozenset(),
                recreate_always=first,
            )
            first = first and bool(result.observed.unreachable)
            if result.acted and not result.failures:
                continue
            if result.plan.converged or (wait and result.plan.stuck):
                return result
            if not wait and not result.plan.progressing:
                return result
            await self._clock.wait_event(self.wake, self._pause(result, deadline.remaining()))
        return result

    def _pause(self, result: PassResult, remaining: float) -> float:
        pause = min(APPLY_RECHECK, remaining)
        if result.plan.requeue_at:
            soonest = min(result.plan.requeue_at.values())
            pause = min(pause, (soonest - self._clock.now()).total_seconds())
        return max(pause, MIN_PAUSE)

    async def down(self, *, grace: timedelta | None = None) -> DownResult:
        """Stop and delete every unit of the project, dependents first. `grace` replaces
        every service's TIMEOUT_STOP (`down --timeout`)."""
        await self._prober.close()
        observed = await self.observe()
        if observed.unreachable:
            reasons = "; ".join(observed.unreachable.values())
            return DownResult(failures=(), left=(), unreachable=reasons)
        failures: list[str] = []
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
            units = {u.id: u for u in wave}
            results = await asyncio.gather(
                *(self._executor.run(self.desired, a, {}, units) for a in actions)
            )
            failures.extend(f"{f.service}: {f.message}" for f in results if f is not None)
        for driver in self._drivers.values():
            try:
                await driver.release_project()
            except ReconcilerError as error:
                failures.append(f"release {driver.mode.value} resources: {error}")
        after = await self.observe()
        left = tuple(u.id for u in after.units if u.project == self.desired.project)
        return DownResult(failures=tuple(failures), left=left)

    def requeue_delay(self, plan: Plan, *, longest: float) -> float:
        """Seconds until the soonest backoff is due, at most `longest`."""
        if not plan.requeue_at:
            return longest
        soonest: datetime = min(plan.requeue_at.values())
        return max(MIN_PAUSE, min(longest, (soonest - self._clock.now()).total_seconds()))
