"""The debouncer, in virtual time: one notification per burst of file events."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.app.clock import VirtualClock
from reconciler.app.debounce import Debouncer

ORCHFILE = Path("/srv/demo/Orchfile")
ENV_FILE = Path("/srv/demo/web.env")


class Recorder:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.fired: list[tuple[float, frozenset[Path]]] = []

    def __call__(self, changed: frozenset[Path]) -> None:
        self.fired.append((self.clock.monotonic(), changed))


@pytest.mark.asyncio
async def test_a_burst_fires_once_after_it_has_been_quiet_for_the_delay() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    debouncer = Debouncer(recorder, clock=clock, delay=0.1)
    debouncer.poke(ORCHFILE)
    await clock.advance(0.05)
    debouncer.poke(ENV_FILE)
    await clock.advance(0.05)
    debouncer.poke(ORCHFILE)
    await clock.advance(0.099)
    assert recorder.fired == []
    await clock.advance(0.001)
    assert recorder.fired == [(pytest.approx(0.2), frozenset({ORCHFILE, ENV_FILE}))]
    await debouncer.close()


@pytest.mark.asyncio
async def test_two_bursts_apart_fire_twice() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    debouncer = Debouncer(recorder, clock=clock, delay=0.1)
    debouncer.poke(ORCHFILE)
    await clock.advance(1)
    debouncer.poke(ENV_FILE)
    await clock.advance(1)
    assert recorder.fired == [
        (pytest.approx(0.1), frozenset({ORCHFILE})),
        (pytest.approx(1.1), frozenset({ENV_FILE})),
    ]
    await debouncer.close()


@pytest.mark.asyncio
async def test_a_burst_that_never_goes_quiet_fires_at_max_wait() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    debouncer = Debouncer(recorder, clock=clock, delay=0.1, max_wait=0.5)
    for _ in range(8):
        debouncer.poke(ORCHFILE)
        await clock.advance(0.09)
    assert [at for at, _ in recorder.fired] == [pytest.approx(0.5)]
    await clock.advance(1)
    assert len(recorder.fired) == 2
    await debouncer.close()


@pytest.mark.asyncio
async def test_close_drops_the_burst_in_progress() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    debouncer = Debouncer(recorder, clock=clock)
    debouncer.poke(ORCHFILE)
    await debouncer.close()
    await clock.advance(10)
    assert recorder.fired == []
    assert debouncer.pending == frozenset()


@pytest.mark.asyncio
async def test_a_failing_handler_is_logged_and_the_next_burst_still_fires(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = VirtualClock()
    calls: list[frozenset[Path]] = []

    def flaky(changed: frozenset[Path]) -> None:
        calls.append(changed)
        if len(calls) == 1:
            raise RuntimeError("handler bug")

    debouncer = Debouncer(flaky, clock=clock)
    debouncer.poke(ORCHFILE)
    await clock.advance(1)
    debouncer.poke(ORCHFILE)
    await clock.advance(1)
    assert len(calls) == 2
    assert "file change handler failed" in caplog.text
    await debouncer.close()


def test_the_delay_must_fit_inside_max_wait() -> None:
    with pytest.raises(ValueError, match="delay <= max_wait"):
        Debouncer(lambda changed: None, clock=VirtualClock(), delay=2, max_wait=1)
