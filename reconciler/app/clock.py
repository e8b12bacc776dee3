"""The injected clock: every wait and timestamp in the engine goes through one.

Why this exists: restart delays, backoff, debouncing and requeue timers are sequences in
time. Taking time from an injected ``Clock`` lets unit tests run those sequences in
virtual time (``VirtualClock``), deterministically and without real sleeps, while the
product uses ``SystemClock``.

Invariants of ``VirtualClock``:
* time moves only in ``advance()``; sleepers wake in deadline order (ties in the order
  they started sleeping), each one with the clock reading exactly its deadline;
* after a sleeper wakes, the loop gets a chance to run its continuation before the clock
  moves on, so a woken task that sleeps again within the window is woken in the same
  ``advance()``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

# Yields to the loop after each wake-up: enough for a woken coroutine to run a chain of
# ready callbacks (queue hand-offs, event sets) before the clock moves again.
_SETTLE_YIELDS: Final = 20
_VIRTUAL_EPOCH: Final = datetime(2026, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """Wall time for timestamps, monotonic time for intervals, and sleeping."""

    def now(self) -> datetime:
        """The current wall time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards; only differences mean anything."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` (at once for zero or less); cancellable."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class VirtualClock:
    """A clock that moves only when a test calls ``advance()``."""

    def __init__(self, *, start: datetime = _VIRTUAL_EPOCH) -> None:
        if start.tzinfo is None:
            raise ValueError("the virtual clock's start must be timezone-aware")
        self._start = start.astimezone(UTC)
        self._elapsed = 0.0
        self._order = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._sleeper_added = asyncio.Event()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._elapsed + seconds, next(self._order), wake))
        self._sleeper_added.set()
        await wake

    @property
    def sleepers(self) -> int:
        """How many sleeps are pending (cancelled ones excluded)."""
        return sum(1 for _, _, wake in self._sleepers if not wake.done())

    async def wait_for_sleepers(self, count: int) -> None:
        """Return once at least ``count`` sleeps are pending (the tasks got to their sleep)."""
        while self.sleepers < count:
            self._sleeper_added.clear()
            await self._sleeper_added.wait()

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking every sleeper due on the way, in order."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        target = self._elapsed + seconds
        await _settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, wake = heapq.heappop(self._sleepers)
            if wake.done():
                continue
            self._elapsed = max(self._elapsed, deadline)
            wake.set_result(None)
            await _settle()
        self._elapsed = target
        await _settle()


async def _settle() -> None:
    for _ in range(_SETTLE_YIELDS):
        await asyncio.sleep(0)
