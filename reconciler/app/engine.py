"""The engine: observe, plan, act, and again, on one asyncio loop.

A *pass* observes every driver from scratch (`observation`), gathers each service's
inputs (image digest, ENV_FILE contents) into its fingerprint (`gathering`), plans, and
hands the plan's actions to the executor (`execution`): concurrently across services (at
most `parallel` mutations at once), never two for one service (`in_flight`). Passes
never overlap; whatever wakes the engine while a pass runs (a save, a runtime event, a
backoff timer, finished work) is coalesced into the next. Health probes run beside the
passes (`health.Prober`); `down` is a teardown, not a pass (`teardown`).

A runtime that cannot be asked is never "nothing exists": its services stay `pending`
until it answers, and the other runtime's services are reconciled meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Final

from reconciler.app.execution import ActionFailure, Executor
from reconciler.app.gathering import InputGatherer
from reconciler.app.health import Prober
from reconciler.app.in_flight import WorkInFlight
from reconciler.app.journal import Journal
from reconciler.app.observation import Observer
from reconciler.app.results import DownResult
from reconciler.app.teardown import tear_down
from reconciler.clock import Clock
from reconciler.controllers.actions import Action, subject
from reconciler.controllers.driver import Driver
from reconciler.controllers.knowledge import KnowledgeBook
from reconciler.controllers.plan import Inputs, Plan, PlanInputs
from reconciler.controllers.planner import plan
from reconciler.controllers.projection import Projection, project
from reconciler.errors import ReconcilerError
from reconciler.model.desired import DesiredStack, ServiceMode, ServiceName
from reconciler.model.observed import Observed
from reconciler.model.secret import Secret
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
        self._drivers = drivers
        self._clock = clock
        self.journal = journal or Journal()
        self.knowledge = KnowledgeBook()
        self.wake = asyncio.Event()
        self._work = WorkInFlight(clock=clock, on_done=self.wake.set)
        self._observer = Observer(drivers=drivers, clock=clock, publish=self.journal.publish)
        self._gatherer = InputGatherer(drivers=drivers, fingerprint_key=fingerprint_key)
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

    def secrets(self) -> list[Secret]:
        """Every value an error could quote (`gathering.InputGatherer.secrets`)."""
        return self._gatherer.secrets(self.desired)

    @property
    def drivers(self) -> Mapping[ServiceMode, Driver]:
        return self._drivers

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def busy(self) -> bool:
        """Work dispatched in the background is still in flight."""
        return self._work.busy

    @property
    def runtimes(self) -> tuple[RuntimeReach, ...]:
        return self._observer.runtimes

    # -- observation -----------------------------------------------------------------

    async def observe(self) -> Observed:
        """Every driver's view merged (`observation.Observer`); kept as `last_observed`."""
        observed = await self._observer.observe(self.desired)
        self.last_observed = observed
        return observed

    # -- passes ----------------------------------------------------------------------

    async def plan_only(self, *, fetch: bool = False) -> PassResult:
        """The plan a pass would execute now, and what it was made from; changes nothing."""
        observed = await self.observe()
        inputs = await self._gatherer.gather(self.desired, observed, fetch=fetch)
        await self._prober.check_unknown(self.desired, observed)
        return PassResult(observed=observed, plan=self._plan(observed, inputs))

    async def projection(self, *, look_up: bool) -> tuple[Observed, Projection]:
        """Everything `apply` would do from here, in order (`controllers.projection`);
        with `look_up`, registry tags are resolved as `apply`'s pull would. Changes
        nothing."""
        observed = await self.observe()
        inputs = await self._gatherer.gather(self.desired, observed, fetch=False, look_up=look_up)
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
        inputs = await self._gatherer.gather(self.desired, observed, fetch=fetch)
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

        async def in_order(actions: list[Action]) -> ActionFailure | None:
            # One service's actions build on each other (record the exit, then restart).
            for action in actions:
                if failure := await self._executor.run(desired, action, inputs, units):
                    return failure
            return None

        if background:
            for key, actions in per_service.items():
                self._work.dispatch(key, partial(in_order, actions), began=began)
            return PassResult(observed=observed, plan=result)
        outcomes = await asyncio.gather(
            *(self._work.run(k, in_order(a)) for k, a in per_service.items())
        )
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
        await self._work.settle(limit)

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

    async def down(self, *, grace: timedelta | None = None, volumes: bool = False) -> DownResult:
        """Stop and delete every unit of the project, dependents first. `grace` replaces
        every service's TIMEOUT_STOP (`down --timeout`). Once nothing is left, the
        project's logs go too, and its named volumes with `volumes` (else they are
        recorded as kept: `project_data`)."""
        await self._prober.close()
        return await tear_down(
            self.desired,
            observe=self.observe,
            executor=self._executor,
            drivers=self._drivers.values(),
            clock=self._clock,
            grace=grace,
            volumes=volumes,
        )

    def requeue_delay(self, plan: Plan, *, longest: float) -> float:
        """Seconds until the soonest backoff is due, at most `longest`."""
        if not plan.requeue_at:
            return longest
        soonest: datetime = min(plan.requeue_at.values())
        return max(MIN_PAUSE, min(longest, (soonest - self._clock.now()).total_seconds()))
