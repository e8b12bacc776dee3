"""Does a `run` hold this project? Then talk to it; else hold the project lock ourselves.

Why this exists: one writer per project. A reading command (`status`, `events`) asks the
`run` if one listens on the project's control socket, and otherwise reads for itself. A
writing command (`apply`, `restart`, `down`) asks the `run` too; without one it takes
the project lock, so that no `run` or other writer can start meanwhile. A `run` that
holds the lock but does not listen yet is starting: it is given a few seconds to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from reconciler.app.control.client import ControlClient
from reconciler.app.control.socket import control_socket
from reconciler.app.loading import ProjectOptions, project_context
from reconciler.app.lock import ProjectLock
from reconciler.clock import Clock, SystemClock
from reconciler.errors import LockHeld

RUN_STARTUP_WAIT: Final = 10.0
RUN_STARTUP_POLL: Final = 0.1


def socket_of(options: ProjectOptions) -> ControlClient:
    context = project_context(options)
    return ControlClient(
        control_socket(options.settings.state_dir, context.namespace, context.project)
    )


async def find_run(options: ProjectOptions) -> ControlClient | None:
    """A client of the `run` holding the project, or None when none listens."""
    client = socket_of(options)
    if client.listening():
        return client
    await client.close()
    return None


def project_lock(options: ProjectOptions, role: str) -> ProjectLock:
    context = project_context(options)
    return ProjectLock(
        state_dir=options.settings.state_dir,
        namespace=context.namespace,
        project=context.project,
        role=role,
    )


@asynccontextmanager
async def writer(
    options: ProjectOptions, role: str, *, clock: Clock | None = None
) -> AsyncIterator[ControlClient | None]:
    """The `run` to ask (a client), or None while this process holds the project lock.
    Raises `LockHeld` when another `apply`, `restart` or `down` is at work."""
    client = await find_run(options)
    if client is None:
        lock = project_lock(options, role)
        try:
            lock.acquire()
        except LockHeld as held:
            if held.role != "run":
                raise
            client = await _starting_run(options, clock or SystemClock())
            if client is None:
                raise
        else:
            with lock:
                yield None
            return
    async with client:
        yield client


async def _starting_run(options: ProjectOptions, clock: Clock) -> ControlClient | None:
    deadline = clock.deadline(RUN_STARTUP_WAIT)
    while not deadline.passed:
        if (client := await find_run(options)) is not None:
            return client
        await clock.sleep(RUN_STARTUP_POLL)
    return None
