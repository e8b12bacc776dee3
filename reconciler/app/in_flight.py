"""Work in flight: each service's actions running in the background, one batch at a time.

A pass that runs in the background hands each service's actions to a task of its own,
so a slow pull for one service never holds back the restart of another. Two rules keep
that safe: a service with work still running gets no more, and a service whose work
ended after the pass began observing gets none from that pass either, since the pass
saw it as it was before that work. Each batch's end is announced (`on_done`) so the next
pass can look again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from reconciler.app.execution import ActionFailure
from reconciler.clock import Clock


class WorkInFlight:
    """Per service key: its running batch, and when its last batch ended (monotonic)."""

    def __init__(self, *, clock: Clock, on_done: Callable[[], None]) -> None:
        self._clock = clock
        self._on_done = on_done
        self._tasks: dict[str, asyncio.Task[ActionFailure | None]] = {}
        self._finished: dict[str, float] = {}

    @property
    def busy(self) -> bool:
        """Some batch is still running."""
        return any(not task.done() for task in self._tasks.values())

    async def run(self, key: str, batch: Awaitable[ActionFailure | None]) -> ActionFailure | None:
        """Run `key`'s batch here, noting when it ended."""
        try:
            return await batch
        finally:
            self._finished[key] = self._clock.monotonic()
            self._on_done()

    def dispatch(
        self, key: str, batch: Callable[[], Awaitable[ActionFailure | None]], *, began: float
    ) -> None:
        """Start `key`'s batch as a task, unless it has one running or one that ended
        after `began` (the monotonic time its pass began observing)."""
        running = self._tasks.get(key)
        busy = running is not None and not running.done()
        if not busy and self._finished.get(key, -1.0) < began:
            self._tasks[key] = asyncio.create_task(self.run(key, batch()), name=key)

    async def settle(self, limit: timedelta) -> None:
        """Let running batches finish (a create is not cut in half), up to `limit`; then
        cancel what is left."""
        pending = [task for task in self._tasks.values() if not task.done()]
        if not pending:
            return
        try:
            await self._clock.wait_for(asyncio.gather(*pending), limit.total_seconds())
        except TimeoutError:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
