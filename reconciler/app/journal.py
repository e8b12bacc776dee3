"""The journal: every entry of `reconciler/model/journal.py` is published here, once.

Why this exists: the same happening must reach the log of `run` (or `apply`) as one line
and every `reconciler events` subscriber as a typed entry, in the same order, from one
call at the place where it happened. Subscribers get a bounded queue each: a slow or
stuck reader loses its oldest entries (and is told how many), it never slows the
engine down nor grows its memory.

Listeners are the other kind of reader: a function called inline by `publish`, for
in-process bookkeeping (`run`'s metrics) that must see every entry, in order, and never
lose one to a full queue. A listener must be quick; one that raises is a bug, logged,
and never fails the code that published.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Final

from reconciler.model.journal import (
    ActionFinished,
    Entry,
    ExitOutcome,
    SaveHeld,
    SaveRejected,
    TaskExited,
)

log = logging.getLogger("reconciler")

SUBSCRIBER_BACKLOG: Final = 1024

Listener = Callable[[Entry], None]


class Subscription:
    """One reader's queue; `dropped` counts entries lost to a full queue."""

    def __init__(self, backlog: int) -> None:
        self.queue: asyncio.Queue[Entry | None] = asyncio.Queue(backlog)
        self.dropped = 0

    def offer(self, entry: Entry | None) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(entry)

    async def next(self) -> Entry | None:
        """The next entry, or None once the journal is closed."""
        return await self.queue.get()


class Journal:
    def __init__(self, *, backlog: int = SUBSCRIBER_BACKLOG) -> None:
        self._backlog = backlog
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Listener] = []
        self.published = 0
        self.closed = False

    def publish(self, entry: Entry) -> None:
        self.published += 1
        log.log(level_of(entry), "%s", entry.line())
        for listener in self._listeners:
            try:
                listener(entry)
            except Exception as error:  # a bug: one line, the traceback with --debug
                log.error(
                    "a journal listener failed (%s: %s) on: %s",
                    type(error).__name__,
                    error,
                    entry.line(),
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
        for subscription in self._subscriptions:
            subscription.offer(entry)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def close(self) -> None:
        """The end of the story: every reader's `next()` gives None from now on."""
        self.closed = True
        for subscription in self._subscriptions:
            subscription.offer(None)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription(self._backlog)
        if self.closed:
            subscription.offer(None)
        self._subscriptions.append(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.remove(subscription)

    @contextlib.contextmanager
    def listen(self, listener: Listener) -> Iterator[None]:
        """Call `listener` with every entry published while the block runs."""
        self._listeners.append(listener)
        try:
            yield
        finally:
            self._listeners.remove(listener)


def level_of(entry: Entry) -> int:
    """How loud the log line is: failures are errors, routine completions are debug."""
    match entry:
        case ActionFinished(error=None):
            return logging.DEBUG
        case ActionFinished(retrying=True):
            return logging.WARNING
        case ActionFinished() | SaveRejected():
            return logging.ERROR
        case SaveHeld():
            return logging.WARNING
        case TaskExited(outcome=ExitOutcome.RESTART):
            return logging.DEBUG  # the restart's own line says why it restarts
        case _:
            return logging.INFO
