"""The work queue: which service gets reconciled next, and never one twice at once.

Why this exists: triggers (file saves, containerd events, timers, resyncs) arrive in
bursts and often name the same service many times. Reconciling is level-based (it
re-reads actual state every time), so one reconcile after the burst is as good as ten;
and two concurrent reconciles of one service would race each other's mutations. Modelled
on controller-runtime's workqueue and ``reconcile.Result``.

Invariants:
* a key is waiting at most once: adding a waiting key is a no-op;
* a key is processed by at most one worker at a time: adding it while it is processed
  marks it dirty, and it is queued once more when that run ends;
* at most ``workers`` keys are processed at once;
* timers run on the injected clock; a later ``add_after`` for a key keeps the earliest
  pending deadline; ``forget`` cancels them and resets the key's backoff;
* a handler's ``Error`` (or exception) requeues the key after an exponential, capped,
  per-key backoff that ``Done`` or ``RequeueAfter`` resets;
* ``close`` cancels every worker and timer and awaits them: no task outlives the queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Generic, TypeVar, assert_never

from reconciler.app.clock import Clock

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, kw_only=True, slots=True)
class Done:
    """Converged for now; only a new trigger brings the key back."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RequeueAfter:
    """Converging but waiting (a restart delay, a probe): look again after ``delay`` s."""

    delay: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Error:
    """The attempt failed: retry after the key's backoff, which grows with each failure."""

    error: Exception


Result = Done | RequeueAfter | Error
DONE: Final = Done()

Reconcile = Callable[[K], Awaitable[Result]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Backoff:
    """Per-key retry delays: ``initial * factor ** (failures - 1)``, at most ``maximum``."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 300.0

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        # Computing factor ** n for a long failure streak would overflow a float.
        delay = self.initial
        for _ in range(failures - 1):
            delay *= self.factor
            if delay >= self.maximum:
                return self.maximum
        return min(delay, self.maximum)


DEFAULT_BACKOFF: Final = Backoff()


class WorkQueue(Generic[K]):
    """A deduplicating queue of keys served by a bounded pool of worker tasks."""

    def __init__(
        self,
        reconcile: Reconcile[K],
        *,
        clock: Clock,
        workers: int = 4,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        if workers < 1:
            raise ValueError("a work queue needs at least one worker")
        self._reconcile = reconcile
        self._clock = clock
        self._worker_count = workers
        self._backoff = backoff
        self._ready: deque[K] = deque()
        self._waiting: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: dict[K, tuple[float, asyncio.Task[None]]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._has_work = asyncio.Semaphore(0)
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    async def __aenter__(self) -> WorkQueue[K]:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def start(self) -> None:
        """Start the workers on the running loop."""
        if self._closed:
            raise RuntimeError("the work queue is closed")
        if self._workers:
            return
        self._workers = [
            asyncio.create_task(self._work(), name=f"workqueue-worker-{n}")
            for n in range(self._worker_count)
        ]

    def add(self, key: K) -> None:
        """Queue ``key`` unless it already waits; if it is being processed, run it again after.

        A no-op once the queue is closed, so late triggers during shutdown are harmless.
        """
        if self._closed or key in self._waiting:
            return
        if key in self._processing:
            self._dirty.add(key)
            return
        self._waiting.add(key)
        self._ready.append(key)
        self._idle.clear()
        self._has_work.release()

    def add_after(self, key: K, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds; an earlier pending deadline for it wins."""
        if self._closed:
            return
        if delay <= 0:
            self.add(key)
            return
        deadline = self._clock.monotonic() + delay
        pending = self._timers.get(key)
        if pending is not None:
            if pending[0] <= deadline:
                return
            pending[1].cancel()
        timer = asyncio.create_task(self._fire(key, delay), name=f"workqueue-timer-{key}")
        self._timers[key] = (deadline, timer)

    def forget(self, key: K) -> None:
        """Cancel ``key``'s pending timer and reset its backoff (it was deleted, say)."""
        self._failures.pop(key, None)
        pending = self._timers.pop(key, None)
        if pending is not None:
            pending[1].cancel()

    def failures(self, key: K) -> int:
        """Consecutive failed attempts of ``key`` since its last success."""
        return self._failures.get(key, 0)

    def scheduled(self, key: K) -> float | None:
        """The monotonic deadline of ``key``'s pending timer, if any."""
        pending = self._timers.get(key)
        return None if pending is None else pending[0]

    def __len__(self) -> int:
        """Keys waiting for a worker (not those in flight or on a timer)."""
        return len(self._ready)

    @property
    def in_flight(self) -> frozenset[K]:
        return frozenset(self._processing)

    async def wait_idle(self) -> None:
        """Return once nothing is waiting or being processed (timers may still be pending)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop: cancel the workers (and any reconcile they run) and every timer, await all."""
        self._closed = True
        tasks = [*self._workers, *(timer for _, timer in self._timers.values())]
        self._workers = []
        self._timers.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fire(self, key: K, delay: float) -> None:
        await self._clock.sleep(delay)
        current = self._timers.get(key)
        if current is not None and current[1] is asyncio.current_task():
            del self._timers[key]
        self.add(key)

    async def _work(self) -> None:
        while True:
            await self._has_work.acquire()
            key = self._ready.popleft()
            self._waiting.discard(key)
            self._processing.add(key)
            try:
                result = await self._attempt(key)
                self._settle(key, result)
            finally:
                self._processing.discard(key)
                if key in self._dirty:
                    self._dirty.discard(key)
                    self.add(key)
                if not self._ready and not self._processing:
                    self._idle.set()

    async def _attempt(self, key: K) -> Result:
        try:
            return await self._reconcile(key)
        except Exception as error:
            logger.exception("reconcile %s raised", key)
            return Error(error=error)

    def _settle(self, key: K, result: Result) -> None:
        match result:
            case Done():
                self._failures.pop(key, None)
            case RequeueAfter(delay=delay):
                self._failures.pop(key, None)
                self.add_after(key, delay)
            case Error(error=error):
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                delay = self._backoff.delay(failures)
                logger.warning(
                    "reconcile %s failed (attempt %d, retry in %gs): %s",
                    key,
                    failures,
                    delay,
                    error,
                )
                self.add_after(key, delay)
            case _:
                assert_never(result)
