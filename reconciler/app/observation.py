"""What every runtime shows, merged into one `Observed`, and which runtimes answer.

A runtime that cannot be asked is never "nothing exists": it is named in the
observation's `unreachable`, so the planner keeps its services `pending` while the
other runtime's are reconciled. Losing and regaining a runtime is published once each
(`RuntimeLost`, `RuntimeBack`), not once per pass, so this keeps each runtime's reach
between passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from reconciler.clock import Clock
from reconciler.controllers.driver import Driver
from reconciler.model.desired import DesiredStack, ServiceMode
from reconciler.model.journal import Entry, RuntimeBack, RuntimeLost
from reconciler.model.observed import (
    Observed,
    ObservedLease,
    ObservedUnit,
    RuntimeFacts,
    Unreachable,
)
from reconciler.model.status import RuntimeReach


class Observer:
    """Asks every driver from scratch; remembers each runtime's reach."""

    def __init__(
        self,
        *,
        drivers: Mapping[ServiceMode, Driver],
        clock: Clock,
        publish: Callable[[Entry], None],
    ) -> None:
        self._drivers = drivers
        self._clock = clock
        self._publish = publish
        self._reach: dict[ServiceMode, RuntimeReach] = {
            mode: RuntimeReach(mode=mode, reachable=True) for mode in drivers
        }

    @property
    def runtimes(self) -> tuple[RuntimeReach, ...]:
        return tuple(self._reach.values())

    async def observe(self, desired: DesiredStack) -> Observed:
        """Every driver's view of `desired`'s project merged; a driver that cannot be
        asked is named in `unreachable`."""
        units: list[ObservedUnit] = []
        headless: list[str] = []
        strays: list[str] = []
        leases: list[ObservedLease] = []
        unreachable: dict[ServiceMode, str] = {}
        runtime: RuntimeFacts | None = None
        for mode, driver in self._drivers.items():
            seen = await driver.observe(desired.project)
            self._note_reach(mode, seen)
            if isinstance(seen, Unreachable):
                unreachable[mode] = seen.reason
                continue
            units.extend(seen.units)
            headless.extend(seen.headless_tasks)
            strays.extend(seen.stray_snapshots)
            leases.extend(seen.leases)
            runtime = runtime or seen.runtime
        return Observed(
            namespace=desired.namespace,
            project=desired.project,
            observed_at=self._clock.now(),
            units=tuple(units),
            headless_tasks=tuple(headless),
            stray_snapshots=tuple(strays),
            leases=tuple(leases),
            unreachable=unreachable,
            runtime=runtime,
        )

    def _note_reach(self, mode: ServiceMode, seen: Observed | Unreachable) -> None:
        before = self._reach[mode]
        now = self._clock.now()
        if isinstance(seen, Unreachable) and before.reachable:
            self._reach[mode] = RuntimeReach(
                mode=mode, reachable=False, since=now, reason=seen.reason
            )
            self._publish(RuntimeLost(at=now, mode=mode, reason=seen.reason))
        elif isinstance(seen, Unreachable):
            self._reach[mode] = RuntimeReach(
                mode=mode, reachable=False, since=before.since, reason=seen.reason
            )
        elif not before.reachable:
            self._reach[mode] = RuntimeReach(mode=mode, reachable=True)
            lost = before.since or now
            self._publish(RuntimeBack(at=now, mode=mode, after=now - lost))
