"""The one clock: every "now", every interval and every wait in the product goes through it.

Why this exists: restart delays, backoff, debouncing, health-probe periods, stop grace
periods and `apply --timeout` are sequences in time. Code that reads `time`,
`datetime.now` or `loop.time()` directly cannot be tested without really waiting. Every
layer that waits or stamps (the engine, the `run` loop, the watcher, the drivers, the
leak check) takes a `Clock`; the product passes `SystemClock`, tests pass `VirtualClock`
and run minutes of restarts in milliseconds.

Invariants of `VirtualClock`:
* time moves only in `advance()` or, inside `drive()`, whenever the event loop has
  nothing left to run: it then jumps to the earliest pending deadline (as `looptime`
  does for kopf's tests);
* sleepers wake in deadline order (ties in the order they started sleeping), each one
  reading exactly its deadline; a woken task that sleeps again within the window is
  woken in the same `advance()`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

T = TypeVar("T")

VIRTUAL_EPOCH: Final = datetime(2026, 1, 1, tzinfo=UTC)
# Upper bound of loop iterations `VirtualClock` waits for the loop to go idle; a loop
# that never does (a busy task) still lets time move.
_IDLE_SPINS: Final = 1000
# Real seconds `drive()` gives the outside world (a thread, a subprocess) when nothing
# sleeps on the virtual clock and the driven task still waits.
_OUTSIDE_POLL: Final = 0.001


class Clock:
    """Wall time for timestamps, monotonic time for intervals, sleeping and timeouts."""

    def now(self) -> datetime:
        """The current wall time, timezone-aware UTC."""
        raise NotImplementedError

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards; only differences mean anything."""
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        """Return after `seconds` (at once for zero or less); cancellable."""
        raise NotImplementedError

    async def wait_for(self, awaitable: Awaitable[T], seconds: float) -> T:
        """`awaitable`'s result, or `TimeoutError` (and it cancelled) after `seconds`."""
        task = asyncio.ensure_future(awaitable)
        timer = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            timer.cancel()
        if task.done():
            return task.result()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise TimeoutError(f"not done within {seconds:g}s")

    async def wait_event(self, event: asyncio.Event, seconds: float) -> bool:
        """Wait until `event` is set or `seconds` pass; whether it was set."""
        if event.is_set():
            return True
        try:
            await self.wait_for(event.wait(), seconds)
        except TimeoutError:
            return event.is_set()
        return True

    def deadline(self, within: timedelta | float) -> Deadline:
        """A point `within` from now on this clock's monotonic scale."""
        seconds = within.total_seconds() if isinstance(within, timedelta) else within
        return Deadline(self, self.monotonic() + seconds)


class Deadline:
    """A moment on a clock's monotonic scale: how long is left, whether it passed."""

    def __init__(self, clock: Clock, at: float) -> None:
        self._clock = clock
        self.at = at

    def remaining(self) -> float:
        return max(0.0, self.at - self._clock.monotonic())

    @property
    def passed(self) -> bool:
        return self._clock.monotonic() >= self.at


class SystemClock(Clock):
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))

    async def wait_for(self, awaitable: Awaitable[T], seconds: float) -> T:
        return await asyncio.wait_for(awaitable, max(seconds, 0.0))


class VirtualClock(Clock):
    """A clock that moves only when a test advances it, or drives a task with it."""

    def __init__(self, *, start: datetime = VIRTUAL_EPOCH) -> None:
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
        """Return once at least `count` sleeps are pending (the tasks got to their sleep)."""
        while self.sleepers < count:
            self._sleeper_added.clear()
            await self._sleeper_added.wait()

    async def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`, waking every sleeper due on the way, in order."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        target = self._elapsed + seconds
        await _idle()
        while (due := self._next_deadline()) is not None and due <= target:
            self._wake_next()
            await _idle()
        self._elapsed = target
        await _idle()

    async def drive(self, awaitable: Awaitable[T], *, limit: float = 3600.0) -> T:
        """Run `awaitable` to its end, letting time flow: whenever the loop is idle, time
        jumps to the next deadline. Fails after `limit` virtual seconds (a task that waits
        forever is a bug in the test or the code, not a reason to hang)."""
        task = asyncio.ensure_future(awaitable)
        end = self._elapsed + limit
        try:
            while not task.done():
                await _idle()
                if task.done():
                    break
                due = self._next_deadline()
                if due is None:
                    await asyncio.wait({task}, timeout=_OUTSIDE_POLL)
                    continue
                if due > end:
                    raise TimeoutError(f"still waiting after {limit:g} virtual seconds")
                self._wake_next()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        return task.result()

    def _next_deadline(self) -> float | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def _wake_next(self) -> None:
        deadline, _, wake = heapq.heappop(self._sleepers)
        self._elapsed = max(self._elapsed, deadline)
        wake.set_result(None)


async def _idle() -> None:
    """Yield until the loop has nothing else ready to run (or a bound is reached)."""
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)  # asyncio's run queue; absent on exotic loops
    for _ in range(_IDLE_SPINS):
        await asyncio.sleep(0)
        if ready is not None and not ready:
            return
