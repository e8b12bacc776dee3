"""Watching the Orchfile, its overlays and ENV_FILEs, the way editors really save them.

Why this exists: ``run`` must see every save within a second, and editors rarely just
write a file. vim renames the original to a backup and writes a new file (or writes
``4913`` first to probe the directory), others write a temp file and rename it over,
``sed -i`` does the same, some truncate and write in place, some delete and recreate. A
watch on the file itself loses track after the first rename. So the watcher watches the
*parent directories* (inotify through watchdog) and filters events by file name: every
one of those patterns ends in an event naming the watched path, and swap and backup files
(``.x.swp``, ``x~``, ``.#x``, ``4913``) never match. When a save has *finished* is the
``SaveSettler``'s question (``saves``).

Invariants:
* watchdog's observer thread only hands raw paths to the loop with
  ``loop.call_soon_threadsafe``; filtering, settling and the callback run on the loop;
* events that do not change content (open, close without write) are not even emitted,
  so reading the files (parsing them) cannot trigger a reload;
* one callback per finished save, with the set of watched paths it touched;
* ``watch()`` replaces the watched set (a save added an ENV_FILE) without a gap for the
  directories that stay; ``close()`` stops the observer thread and drops a pending save.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Final

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from reconciler.app import writers
from reconciler.app.saves import IsReady, OnSaved, SaveSettler
from reconciler.clock import Clock

logger = logging.getLogger(__name__)

# Events that can mean new content; opens and no-write closes (our own reads) are not.
_CONTENT_EVENTS: Final[list[type[FileSystemEvent]]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileClosedEvent,
]
# How long the observer thread blocks on its queue, so stopping it is prompt.
_OBSERVER_POLL: Final = 0.05


class _HandOff(FileSystemEventHandler):
    """Runs on the observer thread: passes the event's paths to the loop, nothing else."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, deliver: Callable[[tuple[str, str]], None]
    ) -> None:
        self._loop = loop
        self._deliver = deliver

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = (os.fsdecode(event.src_path), os.fsdecode(event.dest_path))
        self._loop.call_soon_threadsafe(self._deliver, paths)


class FileWatcher:
    """Calls ``on_change(paths)`` on the loop once per finished save of watched files."""

    def __init__(
        self,
        paths: Iterable[Path],
        on_change: OnSaved,
        *,
        clock: Clock,
        is_ready: IsReady = writers.ready,
    ) -> None:
        self._settler = SaveSettler(on_change, clock=clock, is_ready=is_ready)
        self._wanted = _names(paths)
        self._observer: BaseObserver | None = None
        self._handler: _HandOff | None = None
        self._watches: dict[str, ObservedWatch] = {}
        self._closed = False

    async def __aenter__(self) -> FileWatcher:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def paths(self) -> frozenset[Path]:
        return frozenset(self._wanted.values())

    @property
    def directories(self) -> frozenset[str]:
        return frozenset(self._watches)

    def start(self) -> None:
        """Start the observer thread; events are seen from the moment this returns."""
        if self._observer is not None or self._closed:
            raise RuntimeError("the watcher is already started or closed")
        self._handler = _HandOff(asyncio.get_running_loop(), self._on_paths)
        self._observer = Observer(timeout=_OBSERVER_POLL)
        self._observer.daemon = True
        self._observer.start()
        self.watch(self._wanted.values())

    def watch(self, paths: Iterable[Path]) -> None:
        """Replace the set of watched files; their directories are watched from now on."""
        self._wanted = _names(paths)
        if self._observer is None or self._handler is None:
            return
        directories = {os.path.dirname(name) for name in self._wanted}
        for directory in set(self._watches) - directories:
            self._observer.unschedule(self._watches.pop(directory))
        for directory in sorted(directories - set(self._watches)):
            try:
                self._watches[directory] = self._observer.schedule(
                    self._handler, directory, recursive=False, event_filter=_CONTENT_EVENTS
                )
            except OSError as error:
                # A file in a missing folder is reported by the loader; nothing to watch.
                logger.warning("cannot watch %s: %s", directory, error)

    async def close(self) -> None:
        """Stop the observer thread (waiting for it) and drop a save in progress."""
        self._closed = True
        observer, self._observer = self._observer, None
        self._watches.clear()
        if observer is not None:
            observer.stop()
            await asyncio.to_thread(observer.join)
        await self._settler.close()

    def _on_paths(self, paths: tuple[str, str]) -> None:
        if self._closed:
            return
        for name in paths:
            watched = self._wanted.get(name)
            if watched is not None:
                self._settler.touched(watched)


def _names(paths: Iterable[Path]) -> dict[str, Path]:
    """Event path → watched path: the absolute path, and its target when it is a symlink."""
    names: dict[str, Path] = {}
    for path in paths:
        absolute = Path(os.path.abspath(path))
        names[str(absolute)] = absolute
        names.setdefault(os.path.realpath(absolute), absolute)
    return names
