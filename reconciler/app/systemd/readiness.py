"""What `run` tells systemd, and when: ready after its first pass, a one-line status
whenever it changes, a watchdog ping at half the interval systemd asks for, and that it
is stopping.

Why ready after the first pass, whatever it found: by then the control socket answers,
the files are loaded and every image the services need is in place or known to be
missing; convergence may take long or never come (a failing service), and a unit held
in `activating` for that would be killed at TimeoutStartSec and restarted for nothing.
A containerd that does not answer is the same: `run` is up and waiting for it, and the
status says so.

Why the ping comes from a task of `run`'s event loop: every pass, probe, request and
timer runs on that loop, so a ping on time says the loop turns. A pass stuck forever on
one call is not caught by it; every containerd call has a deadline of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from reconciler.app.runner import PassDone
from reconciler.app.systemd.notify import message, ping_interval
from reconciler.clock import Clock
from reconciler.model.desired import ServiceMode
from reconciler.model.status import ServiceState

Send = Callable[[bytes], None]


class Readiness:
    """A `RunListener` that speaks to systemd through `send`."""

    def __init__(self, send: Send, *, clock: Clock, watchdog: timedelta | None = None) -> None:
        self._send = send
        self._clock = clock
        self._watchdog = watchdog
        self._ready = False
        self._status: str | None = None
        self._stopping = False

    def pass_done(self, done: PassDone) -> None:
        if self._stopping:
            return
        line = status_line(done)
        if not self._ready:
            self._ready = True
            self._send(message(READY="1", STATUS=line))
        elif line != self._status:
            self._send(message(STATUS=line))
        self._status = line

    def stopping(self) -> None:
        self._stopping = True
        self._send(message(STOPPING="1", STATUS="stopping"))

    async def watchdog(self) -> None:
        """Ping until cancelled (with `run`'s loop); nothing when systemd set no watchdog."""
        if self._watchdog is None:
            return
        interval = ping_interval(self._watchdog).total_seconds()
        while True:
            self._send(message(WATCHDOG="1"))
            await self._clock.sleep(interval)


def status_line(done: PassDone) -> str:
    """`4 services: 3 running, 1 failed`, then what else is wrong: a runtime that does
    not answer, a save not applied."""
    statuses = done.result.plan.statuses
    counts = [
        f"{n} {state.value}"
        for state in ServiceState
        if (n := sum(1 for s in statuses if s.state is state))
    ]
    head = f"{len(statuses)} service{'' if len(statuses) == 1 else 's'}"
    parts = [f"{head}: {', '.join(counts)}" if counts else head]
    parts += [f"{_runtime(r.mode)} unreachable" for r in done.runtimes if not r.reachable]
    if done.rejected is not None:
        parts.append("a save is held" if done.rejected.held else "the last save is invalid")
    return "; ".join(parts)


def _runtime(mode: ServiceMode) -> str:
    return "containerd" if mode is ServiceMode.CONTAINER else "the host runtime"
