"""`run` keeps the embedded containerd it depends on running.

Why this exists: the embedded containerd is ours; nothing else restarts it. If it dies
(killed, OOM, a crash) while `run` is active, the containers keep running under their
shims, but nothing can be observed or changed until a daemon answers again. The
supervisor learns of the exit at once (a pidfd becomes readable when the process ends),
starts the daemon again, and wakes the engine, which reconnects (the gRPC channel does by
itself) and adopts what survived. A start that fails is retried with a capped backoff.
A system containerd is not ours to start: the engine retries it with a backoff instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Final

from reconciler.app.embedded import EmbeddedContainerd
from reconciler.clock import Clock
from reconciler.errors import ReconcilerError

log = logging.getLogger("reconciler")

RETRY_FIRST: Final = 0.5
RETRY_CAP: Final = 30.0


class DaemonSupervisor:
    def __init__(
        self, daemon: EmbeddedContainerd, *, clock: Clock, on_restart: Callable[[], None]
    ) -> None:
        self._daemon = daemon
        self._clock = clock
        self._on_restart = on_restart

    async def run(self) -> None:
        """Until cancelled: wait for the daemon to exit, then start it again. A daemon
        that answers under a pid it did not record is not ours to watch."""
        while (pid := self._daemon.pid()) is not None:
            await _exited(pid)
            log.warning("the embedded containerd (pid %d) exited; starting it again", pid)
            await self._start()
            self._on_restart()

    async def _start(self) -> None:
        delay = RETRY_FIRST
        while True:
            try:
                await self._daemon.ensure_running()
            except ReconcilerError as error:
                log.error("cannot start the embedded containerd: %s; retrying", error)
                await self._clock.sleep(delay)
                delay = min(delay * 2, RETRY_CAP)
                continue
            return


async def _exited(pid: int) -> None:
    """Return when process `pid` has ended (at once if it is gone already)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()

    def on_readable() -> None:
        if not ended.done():
            ended.set_result(None)

    loop.add_reader(pidfd, on_readable)
    try:
        await ended
    finally:
        loop.remove_reader(pidfd)
        with contextlib.suppress(OSError):
            os.close(pidfd)
