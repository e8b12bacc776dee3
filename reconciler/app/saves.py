"""Turning file events into "a save has finished": one notification per finished save.

Why this exists: one save is several filesystem events (truncate, write, write, close;
or create a temp file, write, rename it over; or delete and create), and the content in
between is not what the writer means: a shell's `>` truncates first and writes when the
command has output; a person typing into `cat > Orchfile` writes a line at a time. Loading
in between would apply an empty or partial file. So a burst of events ends only when
every file it touched is *ready* (it exists and no process holds it open for writing,
`writers.held_for_writing`), and has been quiet for `delay`; a writer that holds a file
open and stays silent for `hold` seconds is waited for no longer (load what is there).

Invariants:
* one fire per finished burst, with every watched path the burst touched;
* a burst of finished saves that never goes quiet still fires after `max_wait`, but
  never while a file is missing or held open for writing (short of `hold`);
* time comes from the injected clock; readiness from the injected `is_ready`; `close`
  cancels a pending fire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final

from reconciler.clock import Clock

logger = logging.getLogger(__name__)

SAVE_DELAY: Final = 0.1
SAVE_MAX_WAIT: Final = 1.0
WRITER_HOLD: Final = 5.0
# How often a file that is missing or held open is looked at again without an event.
RECHECK: Final = 0.25

OnSaved = Callable[[frozenset[Path]], None]
IsReady = Callable[[Path], bool]


class SaveSettler:
    """Collects touched paths on the event loop; calls `fire` once a save has finished."""

    def __init__(
        self,
        fire: OnSaved,
        *,
        clock: Clock,
        is_ready: IsReady,
        delay: float = SAVE_DELAY,
        max_wait: float = SAVE_MAX_WAIT,
        hold: float = WRITER_HOLD,
    ) -> None:
        if delay < 0 or max_wait < delay or hold < delay:
            raise ValueError("need 0 <= delay <= max_wait and delay <= hold")
        self._fire = fire
        self._clock = clock
        self._is_ready = is_ready
        self._delay = delay
        self._max_wait = max_wait
        self._hold = hold
        self._pending: set[Path] = set()
        self._first = 0.0
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> frozenset[Path]:
        return frozenset(self._pending)

    def touched(self, path: Path) -> None:
        """Record an event on `path`; must be called on the event loop's thread."""
        now = self._clock.monotonic()
        self._last = now
        self._pending.add(path)
        if self._task is None:
            self._first = now
            self._task = asyncio.create_task(self._wait_until_saved(), name="save settler")

    async def close(self) -> None:
        """Drop the burst in progress, if any, without firing."""
        task, self._task = self._task, None
        self._pending.clear()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _wait_until_saved(self) -> None:
        while True:
            now = self._clock.monotonic()
            due = min(self._last + self._delay, self._first + self._max_wait)
            if now < due:
                await self._clock.sleep(due - now)
                continue
            if now >= self._last + self._hold:
                break  # a silent writer: load what is there
            if all(self._is_ready(path) for path in self._pending):
                break
            await self._clock.sleep(min(RECHECK, self._last + self._hold - now))
        saved = frozenset(self._pending)
        self._pending.clear()
        self._task = None
        try:
            self._fire(saved)
        except Exception:
            logger.exception("file change handler failed")
