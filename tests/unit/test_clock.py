"""The injected clock: virtual time wakes sleepers in order, at their deadlines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from reconciler.clock import Clock, SystemClock, VirtualClock


def test_the_system_clock_tells_utc_time() -> None:
    clock: Clock = SystemClock()
    assert clock.now().tzinfo is UTC
    assert clock.monotonic() <= clock.monotonic()


@pytest.mark.asyncio
async def test_the_system_clock_sleeps_zero_at_once() -> None:
    await asyncio.wait_for(SystemClock().sleep(-1), timeout=1)


@pytest.mark.asyncio
async def test_virtual_time_moves_only_on_advance() -> None:
    start = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    clock = VirtualClock(start=start)
    assert clock.now() == start
    assert clock.monotonic() == 0.0
    await clock.advance(90)
    assert clock.now() == start + timedelta(seconds=90)
    assert clock.monotonic() == 90.0


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        VirtualClock(start=datetime(2030, 1, 1))


@pytest.mark.asyncio
async def test_sleepers_wake_in_deadline_order_reading_their_deadline() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in [("c", 3), ("a", 1), ("b", 2)]]
    await clock.wait_for_sleepers(3)
    await clock.advance(10)
    await asyncio.gather(*tasks)
    assert woke == [("a", 1.0), ("b", 2.0), ("c", 3.0)]
    assert clock.monotonic() == 10.0


@pytest.mark.asyncio
async def test_a_sleeper_due_after_the_window_keeps_sleeping() -> None:
    clock = VirtualClock()
    task = asyncio.create_task(clock.sleep(5))
    await clock.wait_for_sleepers(1)
    await clock.advance(4.9)
    assert not task.done()
    await clock.advance(0.1)
    assert task.done()


@pytest.mark.asyncio
async def test_a_woken_task_that_sleeps_again_within_the_window_wakes_again() -> None:
    clock = VirtualClock()
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(3):
            await clock.sleep(1)
            ticks.append(clock.monotonic())

    task = asyncio.create_task(ticker())
    await clock.wait_for_sleepers(1)
    await clock.advance(3)
    await task
    assert ticks == [1.0, 2.0, 3.0]


@pytest.mark.asyncio
async def test_a_cancelled_sleep_is_no_longer_counted() -> None:
    clock = VirtualClock()
    task = asyncio.create_task(clock.sleep(5))
    await clock.wait_for_sleepers(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.sleepers == 0
    await clock.advance(10)


@pytest.mark.asyncio
async def test_time_never_goes_backwards() -> None:
    with pytest.raises(ValueError, match="backwards"):
        await VirtualClock().advance(-1)
