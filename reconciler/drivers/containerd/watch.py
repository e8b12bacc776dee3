"""containerd's events as one stream that outlives daemon restarts.

Events are hints, not a log: nothing is replayed after a reconnect and the shim gives up
re-sending after ~15 s of daemon downtime (docs/containerd.md, "Events"). So the stream says
when it (re)subscribed with a `Resubscribed` marker, and whoever consumes it re-lists
actual state then; a periodic resync covers the short window between listing and the
daemon registering the subscription.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.events import Event
from reconciler.errors import RuntimeUnavailable

FIRST_RETRY: Final = 0.05
MAX_RETRY: Final = 1.0


@dataclass(frozen=True, kw_only=True)
class Resubscribed:
    """The stream (re)started; anything before it may have been missed."""

    attempt: int


async def watch_events(
    client: ContainerdClient,
    *filters: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[Event | Resubscribed]:
    """Events of the client's namespace matching any of `filters`; runs until cancelled."""
    delay, attempt = FIRST_RETRY, 0
    while True:
        try:
            await client.version()
            attempt += 1
            yield Resubscribed(attempt=attempt)
            async for event in client.events.subscribe(*filters):
                delay = FIRST_RETRY
                yield event
        except RuntimeUnavailable:
            await sleep(delay)
            delay = min(delay * 2, MAX_RETRY)
