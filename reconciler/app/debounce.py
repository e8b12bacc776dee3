"""Turning a burst of file events into one notification.

Why this exists: one editor save is several filesystem events (create temp, write,
rename over, delete backup; or truncate then write). Reconciling after each would start
work on a half-written file and repeat it. The debouncer waits until the events have
been quiet for ``delay`` seconds, then fires once with every path the burst touched.

Invariants:
* one fire per burst: a poke within ``delay`` of the previous one extends the burst;
* a burst that never goes quiet still fires after ``max_wait`` (a log being rewritten
  continuously must not starve the reconciler);
* time comes from the injected clock; ``close`` cancels a pending fire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final

from reconciler.app.clock import Clock

logger = logging.getLogger(__name__)

DEBOUNCE_DELAY: Final = 0.1
DEBOUNCE_MAX_WAIT: Final = 1.0

OnChange = Callable[[frozenset[Path]], None]


class Debouncer:
    """Collects pokes on the event loop and calls ``fire`` once per quiet-ended burst."""

    def __init__(
        self,
        fire: OnChange,
        *,
        clock: Clock,
        delay: float = DEBOUNCE_DELAY,
        max_wait: float = DEBOUNCE_MAX_WAIT,
    ) -> None:
        if delay < 0 or max_wait < delay:
            raise ValueError("need 0 <= delay <= max_wait")
        self._fire = fire
        self._clock = clock
        self._delay = delay
        self._max_wait = max_wait
        self._pending: set[Path] = set()
        self._first = 0.0
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> frozenset[Path]:
        return frozenset(self._pending)

    def poke(self, path: Path) -> None:
        """Record a change of ``path``; must be called on the event loop's thread."""
        now = self._clock.monotonic()
        self._last = now
        self._pending.add(path)
        if self._task is None:
            self._first = now
            self._task = asyncio.create_task(self._wait_for_quiet(), name="debounce")

    async def close(self) -> None:
        """Drop the burst in progress, if any, without firing."""
        task, self._task = self._task, None
        self._pending.clear()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _wait_for_quiet(self) -> None:
        while True:
            due = min(self._last + self._delay, self._first + self._max_wait)
            remaining = due - self._clock.monotonic()
            if remaining <= 0:
                break
            await self._clock.sleep(remaining)
        changed = frozenset(self._pending)
        self._pending.clear()
        self._task = None
        try:
            self._fire(changed)
        except Exception:
            logger.exception("file change handler failed")
