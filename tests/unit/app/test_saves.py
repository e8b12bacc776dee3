"""The save settler, in virtual time: one notification per finished save, never for a
file that is missing or still held open for writing (short of the hold bound)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.app.saves import SaveSettler
from reconciler.clock import VirtualClock

pytestmark = pytest.mark.asyncio

ORCHFILE = Path("/srv/demo/Orchfile")
ENV_FILE = Path("/srv/demo/web.env")


class Recorder:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.fired: list[tuple[float, frozenset[Path]]] = []

    def __call__(self, changed: frozenset[Path]) -> None:
        self.fired.append((self.clock.monotonic(), changed))


class Files:
    """Which files are ready: present and not held open for writing."""

    def __init__(self) -> None:
        self.busy: set[Path] = set()

    def __call__(self, path: Path) -> bool:
        return path not in self.busy


def settler(clock: VirtualClock, recorder: Recorder, files: Files | None = None) -> SaveSettler:
    return SaveSettler(
        recorder, clock=clock, is_ready=files or Files(), delay=0.1, max_wait=1.0, hold=5.0
    )


async def test_a_burst_fires_once_after_it_has_been_quiet_for_the_delay() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    saves = settler(clock, recorder)
    saves.touched(ORCHFILE)
    await clock.advance(0.05)
    saves.touched(ENV_FILE)
    await clock.advance(0.05)
    saves.touched(ORCHFILE)
    await clock.advance(0.099)
    assert recorder.fired == []
    await clock.advance(0.001)
    assert recorder.fired == [(pytest.approx(0.2), frozenset({ORCHFILE, ENV_FILE}))]
    await saves.close()


async def test_two_bursts_apart_fire_twice() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    saves = settler(clock, recorder)
    saves.touched(ORCHFILE)
    await clock.advance(1)
    saves.touched(ENV_FILE)
    await clock.advance(1)
    assert recorder.fired == [
        (pytest.approx(0.1), frozenset({ORCHFILE})),
        (pytest.approx(1.1), frozenset({ENV_FILE})),
    ]
    await saves.close()


async def test_a_burst_of_finished_saves_that_never_goes_quiet_fires_at_max_wait() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    saves = settler(clock, recorder)
    for _ in range(15):
        saves.touched(ORCHFILE)
        await clock.advance(0.09)
    assert [at for at, _ in recorder.fired] == [pytest.approx(1.0)]
    await clock.advance(1)
    assert len(recorder.fired) == 2
    await saves.close()


async def test_a_file_held_open_for_writing_is_waited_for_until_it_is_closed() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    files = Files()
    saves = settler(clock, recorder, files)
    files.busy.add(ORCHFILE)  # `cat > Orchfile`: truncated, the writer still typing
    saves.touched(ORCHFILE)
    await clock.advance(3)
    assert recorder.fired == []
    files.busy.clear()  # closed: the next look finds it ready
    await clock.advance(0.25)
    assert [changed for _, changed in recorder.fired] == [frozenset({ORCHFILE})]
    await saves.close()


async def test_a_writer_silent_for_the_hold_bound_is_not_waited_for_any_longer() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    files = Files()
    saves = settler(clock, recorder, files)
    files.busy.add(ORCHFILE)
    saves.touched(ORCHFILE)
    await clock.advance(4.9)
    assert recorder.fired == []
    await clock.advance(0.2)
    assert [at for at, _ in recorder.fired] == [pytest.approx(5.0)]
    await saves.close()


async def test_a_writer_that_keeps_writing_extends_the_hold() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    files = Files()
    saves = settler(clock, recorder, files)
    files.busy.add(ORCHFILE)
    for _ in range(4):  # a line typed every 3 s: never 5 s of silence
        saves.touched(ORCHFILE)
        await clock.advance(3)
    assert recorder.fired == []
    await clock.advance(2.1)
    assert len(recorder.fired) == 1
    await saves.close()


async def test_a_deleted_file_is_waited_for_until_it_is_back() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    files = Files()
    saves = settler(clock, recorder, files)
    files.busy.add(ORCHFILE)  # deleted: not ready
    saves.touched(ORCHFILE)
    await clock.advance(1)
    assert recorder.fired == []
    files.busy.clear()  # recreated one second later
    saves.touched(ORCHFILE)
    await clock.advance(0.1)
    assert [at for at, _ in recorder.fired] == [pytest.approx(1.1)]
    await saves.close()


async def test_close_drops_the_burst_in_progress() -> None:
    clock = VirtualClock()
    recorder = Recorder(clock)
    saves = settler(clock, recorder)
    saves.touched(ORCHFILE)
    await saves.close()
    await clock.advance(10)
    assert recorder.fired == []
    assert saves.pending == frozenset()


async def test_a_failing_handler_is_logged_and_the_next_burst_still_fires(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = VirtualClock()
    calls: list[frozenset[Path]] = []

    def flaky(changed: frozenset[Path]) -> None:
        calls.append(changed)
        if len(calls) == 1:
            raise RuntimeError("handler bug")

    saves = SaveSettler(flaky, clock=clock, is_ready=Files())
    saves.touched(ORCHFILE)
    await clock.advance(1)
    saves.touched(ORCHFILE)
    await clock.advance(1)
    assert len(calls) == 2
    assert "file change handler failed" in caplog.text
    await saves.close()


async def test_the_delay_must_fit_inside_max_wait() -> None:
    with pytest.raises(ValueError, match="delay <= max_wait"):
        SaveSettler(
            lambda changed: None, clock=VirtualClock(), is_ready=Files(), delay=2, max_wait=1
        )
