"""The work queue: dedup, one worker per key, a bounded pool, timers and backoff.

Handlers block on asyncio events the test controls; timers run on a VirtualClock.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from reconciler.app.clock import VirtualClock
from reconciler.app.workqueue import DONE, Backoff, Error, RequeueAfter, Result, WorkQueue


class Handler:
    """A reconcile function that records calls and can be held open per key."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.times: dict[str, list[float]] = defaultdict(list)
        self.results: dict[str, list[Result]] = defaultdict(list)
        self.gates: dict[str, asyncio.Event] = {}
        self.started: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.running: set[str] = set()
        self.max_running = 0
        self.overlapped: set[str] = set()
        self.clock: VirtualClock | None = None

    def hold(self, key: str) -> asyncio.Event:
        gate = asyncio.Event()
        self.gates[key] = gate
        return gate

    async def __call__(self, key: str) -> Result:
        if key in self.running:
            self.overlapped.add(key)
        self.running.add(key)
        self.max_running = max(self.max_running, len(self.running))
        self.calls.append(key)
        if self.clock is not None:
            self.times[key].append(self.clock.monotonic())
        self.started[key].set()
        try:
            gate = self.gates.get(key)
            if gate is not None:
                await gate.wait()
            planned = self.results[key]
            return planned.pop(0) if planned else DONE
        finally:
            self.running.discard(key)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def handler(clock: VirtualClock) -> Handler:
    handler = Handler()
    handler.clock = clock
    return handler


@pytest_asyncio.fixture
async def queue(handler: Handler, clock: VirtualClock) -> AsyncIterator[WorkQueue[str]]:
    async with WorkQueue(
        handler, clock=clock, workers=2, backoff=Backoff(initial=1, maximum=8)
    ) as q:
        yield q


@pytest.mark.asyncio
async def test_a_key_added_twice_while_waiting_is_reconciled_once(
    queue: WorkQueue[str], handler: Handler
) -> None:
    queue.add("web")
    queue.add("web")
    assert len(queue) == 1
    await queue.wait_idle()
    assert handler.calls == ["web"]


@pytest.mark.asyncio
async def test_a_key_added_while_processing_runs_exactly_once_more_after(
    queue: WorkQueue[str], handler: Handler
) -> None:
    gate = handler.hold("web")
    queue.add("web")
    await handler.started["web"].wait()
    queue.add("web")
    queue.add("web")
    assert len(queue) == 0
    assert queue.in_flight == {"web"}
    gate.set()
    await queue.wait_idle()
    assert handler.calls == ["web", "web"]
    assert not handler.overlapped


@pytest.mark.asyncio
async def test_one_key_is_never_processed_by_two_workers_at_once(clock: VirtualClock) -> None:
    handler = Handler()
    async with WorkQueue(handler, clock=clock, workers=8) as queue:
        for _ in range(5):
            for _ in range(20):
                queue.add("web")
            await asyncio.sleep(0)
        await queue.wait_idle()
    assert not handler.overlapped
    assert 1 < handler.calls.count("web") <= 5


@pytest.mark.asyncio
async def test_at_most_the_worker_count_of_keys_run_at_once(
    queue: WorkQueue[str], handler: Handler
) -> None:
    gates = [handler.hold(key) for key in "abcde"]
    for key in "abcde":
        queue.add(key)
    await handler.started["a"].wait()
    await handler.started["b"].wait()
    assert queue.in_flight == {"a", "b"}
    assert len(queue) == 3
    for gate in gates:
        gate.set()
    await queue.wait_idle()
    assert handler.max_running == 2
    assert sorted(handler.calls) == list("abcde")


@pytest.mark.asyncio
async def test_keys_are_served_in_the_order_they_were_added(clock: VirtualClock) -> None:
    handler = Handler()
    async with WorkQueue(handler, clock=clock, workers=1) as queue:
        for key in ["c", "a", "b", "a"]:
            queue.add(key)
        await queue.wait_idle()
    assert handler.calls == ["c", "a", "b"]


@pytest.mark.asyncio
async def test_wait_idle_waits_for_the_key_in_flight(
    queue: WorkQueue[str], handler: Handler
) -> None:
    gate = handler.hold("web")
    queue.add("web")
    await handler.started["web"].wait()
    idle = asyncio.create_task(queue.wait_idle())
    await asyncio.sleep(0)
    assert not idle.done()
    gate.set()
    await asyncio.wait_for(idle, timeout=5)


@pytest.mark.asyncio
async def test_requeue_after_brings_the_key_back_after_the_delay(
    queue: WorkQueue[str], handler: Handler, clock: VirtualClock
) -> None:
    handler.results["web"] = [RequeueAfter(delay=5)]
    queue.add("web")
    await queue.wait_idle()
    assert queue.scheduled("web") == 5.0
    await clock.advance(4.9)
    assert handler.calls == ["web"]
    await clock.advance(0.1)
    await queue.wait_idle()
    assert handler.times["web"] == [0.0, 5.0]
    assert queue.scheduled("web") is None


@pytest.mark.asyncio
async def test_a_later_add_after_keeps_the_earliest_deadline(
    queue: WorkQueue[str], handler: Handler, clock: VirtualClock
) -> None:
    queue.add_after("web", 10)
    queue.add_after("web", 3)
    queue.add_after("web", 7)
    assert queue.scheduled("web") == 3.0
    await clock.advance(20)
    await queue.wait_idle()
    assert handler.times["web"] == [3.0]


@pytest.mark.asyncio
async def test_add_after_with_no_delay_adds_at_once(
    queue: WorkQueue[str], handler: Handler
) -> None:
    queue.add_after("web", 0)
    assert len(queue) == 1
    await queue.wait_idle()
    assert handler.calls == ["web"]


@pytest.mark.asyncio
async def test_forget_cancels_the_pending_timer(
    queue: WorkQueue[str], handler: Handler, clock: VirtualClock
) -> None:
    queue.add_after("web", 5)
    queue.forget("web")
    assert queue.scheduled("web") is None
    await clock.advance(10)
    await queue.wait_idle()
    assert handler.calls == []


@pytest.mark.asyncio
async def test_errors_back_off_exponentially_up_to_the_cap(
    queue: WorkQueue[str], handler: Handler, clock: VirtualClock
) -> None:
    failure = Error(error=RuntimeError("containerd said no"))
    handler.results["web"] = [failure] * 6
    queue.add("web")
    await clock.advance(100)
    await queue.wait_idle()
    # Delays 1, 2, 4, 8, 8, 8 (capped), then success.
    assert handler.times["web"] == [0.0, 1.0, 3.0, 7.0, 15.0, 23.0, 31.0]
    assert queue.failures("web") == 0


@pytest.mark.asyncio
async def test_success_resets_the_backoff(
    queue: WorkQueue[str], handler: Handler, clock: VirtualClock
) -> None:
    failure = Error(error=RuntimeError("boom"))
    handler.results["web"] = [failure, failure, DONE, failure]
    queue.add("web")
    await clock.advance(3)
    await queue.wait_idle()
    assert handler.times["web"] == [0.0, 1.0, 3.0]
    assert queue.failures("web") == 0
    queue.add("web")
    await queue.wait_idle()
    assert queue.failures("web") == 1
    assert queue.scheduled("web") == 4.0


@pytest.mark.asyncio
async def test_backoff_is_per_key(
    queue: WorkQueue[str], handler: Handler, clock: VirtualClock
) -> None:
    failure = Error(error=RuntimeError("boom"))
    handler.results["web"] = [failure, failure]
    handler.results["db"] = [failure]
    queue.add("web")
    queue.add("db")
    await queue.wait_idle()
    await clock.advance(1)
    await queue.wait_idle()
    assert queue.failures("web") == 2
    assert queue.failures("db") == 0
    assert queue.scheduled("web") == 3.0


@pytest.mark.asyncio
async def test_a_raising_handler_counts_as_an_error_and_is_logged(
    clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(key: str) -> Result:
        raise ValueError(f"bad {key}")

    async with WorkQueue(explode, clock=clock, backoff=Backoff(initial=2)) as queue:
        queue.add("web")
        await queue.wait_idle()
        assert queue.failures("web") == 1
        assert queue.scheduled("web") == 2.0
    assert "reconcile web raised" in caplog.text


@pytest.mark.asyncio
async def test_close_cancels_the_running_reconcile_and_the_timers(clock: VirtualClock) -> None:
    cancelled = asyncio.Event()
    started = asyncio.Event()

    async def stuck(key: str) -> Result:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        return DONE

    queue: WorkQueue[str] = WorkQueue(stuck, clock=clock)
    queue.start()
    queue.add("web")
    queue.add_after("db", 60)
    await started.wait()
    await queue.close()
    assert cancelled.is_set()
    assert clock.sleepers == 0


@pytest.mark.asyncio
async def test_triggers_after_close_are_ignored(clock: VirtualClock) -> None:
    handler = Handler()
    async with WorkQueue(handler, clock=clock) as queue:
        pass
    queue.add("web")
    queue.add_after("web", 1)
    assert len(queue) == 0
    assert queue.scheduled("web") is None


def test_backoff_delays_double_from_initial_up_to_the_maximum() -> None:
    backoff = Backoff(initial=0.5, factor=2, maximum=300)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1, 2, 4, 8]
    assert backoff.delay(0) == 0
    assert backoff.delay(10_000) == 300


def test_a_queue_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        WorkQueue(Handler(), clock=VirtualClock(), workers=0)
