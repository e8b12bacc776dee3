"""The `run` loop over a fake driver and a fake watcher, in virtual time: saves applied,
held or rejected, requests from other commands (apply, restart, down), and what it says."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from types import TracebackType

import pytest
import pytest_asyncio

from reconciler.app.desired_source import DesiredSource
from reconciler.app.engine import Engine
from reconciler.app.journal import Journal
from reconciler.app.loading import SourceIdentity
from reconciler.app.runner import PassDone, Runner
from reconciler.app.saves import OnSaved
from reconciler.clock import VirtualClock
from reconciler.drivers.fake import FakeDriver
from reconciler.errors import ControlError, Diagnostic, InvalidOrchfile, Location
from reconciler.model.desired import DesiredService, DesiredStack, Restart, ServiceMode
from reconciler.model.journal import (
    Converged,
    DesiredLoaded,
    Entry,
    GaveUp,
    SaveHeld,
    SaveRejected,
)
from reconciler.model.status import Outlook, ServiceState, StatusReport
from tests.support.desired import IMAGE, PROJECT, restart, service, stack
from tests.support.planning import FINGERPRINT_KEY

pytestmark = pytest.mark.asyncio
SECOND = timedelta(seconds=1)


class FakeWatch:
    """Stands in for the file watcher: the test says when a save has finished."""

    def __init__(self) -> None:
        self.paths: set[Path] = set()
        self._on_saved: OnSaved | None = None

    def __call__(self, paths: Iterable[Path], on_saved: OnSaved) -> FakeWatch:
        self.paths = set(paths)
        self._on_saved = on_saved
        return self

    async def __aenter__(self) -> FakeWatch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._on_saved = None

    def watch(self, paths: Iterable[Path]) -> None:
        self.paths = set(paths)

    def saved(self) -> None:
        assert self._on_saved is not None, "not watching"
        self._on_saved(frozenset(self.paths))


@dataclass
class Files:
    """The Orchfile on disk (its bytes move the digest) and what loading it gives."""

    path: Path
    desired: DesiredStack
    invalid: InvalidOrchfile | None = None

    def load(self) -> DesiredStack:
        if self.invalid is not None:
            raise self.invalid
        return self.desired

    def save(self, *services: DesiredService) -> None:
        self.invalid = None
        self.desired = replace(self.desired, services=services)
        self.path.write_text(repr([s.name for s in services]) + repr(services))

    def save_invalid(self, message: str) -> None:
        self.invalid = InvalidOrchfile(
            [Diagnostic(location=Location(file=str(self.path), line=3), message=message)]
        )
        self.path.write_text(f"broken: {message}")


@dataclass
class Heard:
    """A `RunListener` that writes down what it is told."""

    passes: list[PassDone] = field(default_factory=list)
    stops: int = 0

    def pass_done(self, done: PassDone) -> None:
        self.passes.append(done)

    def stopping(self) -> None:
        self.stops += 1


@dataclass
class Harness:
    clock: VirtualClock
    fake: FakeDriver
    files: Files
    watch: FakeWatch
    runner: Runner
    entries: list[Entry]
    task: asyncio.Future[object]
    heard: Heard

    async def settle(self, seconds: float = 0.01) -> None:
        await self.clock.advance(seconds)

    async def ask(self, request: Callable[[], object]) -> object:
        """Run a request to `run` (apply, restart, down) while time flows."""
        call = asyncio.ensure_future(request())  # type: ignore[arg-type]
        while not call.done():
            await self.clock.advance(0.5)
        return call.result()

    def of(self, kind: type[Entry]) -> list[Entry]:
        return [e for e in self.entries if isinstance(e, kind)]

    async def status(self) -> StatusReport:
        return await self.runner.status()


@pytest_asyncio.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = VirtualClock()
    fake = FakeDriver(project=PROJECT, clock=clock, images={IMAGE: "sha256:a"})
    orchfile = tmp_path / "Orchfile"
    files = Files(path=orchfile, desired=replace(stack(), files=(orchfile,)))
    files.save(service("web"), service("worker", requires=["web"]))
    journal = Journal()
    engine = Engine(
        desired=files.desired,
        drivers={ServiceMode.CONTAINER: fake},
        clock=clock,
        journal=journal,
        fingerprint_key=FINGERPRINT_KEY,
    )
    source = DesiredSource(
        load=files.load,
        identity=SourceIdentity(files=(str(orchfile),), args={}),
        initial=files.desired,
        clock=clock,
        journal=journal,
    )
    watch = FakeWatch()
    heard = Heard()
    runner = Runner(engine, source, watch=watch, listeners=[heard], handle_signals=False)
    entries: list[Entry] = []
    with journal.subscribe() as subscription:

        async def record() -> None:
            while (entry := await subscription.next()) is not None:
                entries.append(entry)

        recorder = asyncio.ensure_future(record())
        task = asyncio.ensure_future(runner.run())
        made = Harness(clock, fake, files, watch, runner, entries, task, heard)
        await made.settle()
        yield made
        runner.stop()
        with contextlib.suppress(ControlError):
            await task
        await engine.close()
        recorder.cancel()
        await asyncio.gather(recorder, return_exceptions=True)


def state(report: StatusReport, name: str) -> ServiceState:
    return next(s.state for s in report.services if s.name == name)


async def test_run_converges_at_start_and_says_so_once(harness: Harness) -> None:
    report = await harness.status()

    assert report.converged
    assert set(harness.fake.units) == {"demo-web", "demo-worker"}
    assert len(harness.of(Converged)) == 1
    assert report.reconciler is not None
    assert report.reconciler.passes >= 1
    assert report.reconciler.files == (str(harness.files.path),)


async def test_a_finished_save_is_loaded_and_applied(harness: Harness) -> None:
    harness.files.save(service("web", env={"MODE": "debug"}), service("worker", requires=["web"]))
    harness.watch.saved()
    await harness.settle()

    creates = [c.unit_id for c in harness.fake.calls_of("create")]
    assert creates.count("demo-web") == 2
    assert creates.count("demo-worker") == 1
    assert len(harness.of(DesiredLoaded)) == 1


async def test_an_invalid_save_keeps_the_last_good_state_and_is_said_once(
    harness: Harness,
) -> None:
    harness.fake.reset_calls()
    harness.files.save_invalid("unknown directive 'FORM'")
    harness.watch.saved()
    await harness.settle()
    harness.watch.saved()  # saved again, the same mistake
    await harness.settle()

    assert harness.fake.mutations == []
    (rejected,) = harness.of(SaveRejected)
    assert rejected.error.endswith("Orchfile:3: unknown directive 'FORM'")  # type: ignore[union-attr]
    report = await harness.status()
    assert not report.orchfile.valid
    assert not report.converged

    harness.files.save(service("web"), service("worker", requires=["web"]))
    harness.watch.saved()
    await harness.settle()
    (loaded,) = harness.of(DesiredLoaded)
    assert loaded.line() == "the Orchfile is valid again: 2 service(s) in force"
    assert (await harness.status()).converged


async def test_an_emptied_file_removes_nothing_and_is_held_until_apply_confirms(
    harness: Harness,
) -> None:
    harness.fake.reset_calls()
    harness.files.save()
    harness.watch.saved()
    await harness.settle()

    assert harness.fake.mutations == []
    (held,) = harness.of(SaveHeld)
    assert held.services == ("web", "worker")  # type: ignore[union-attr]
    assert "reconciler down" in held.line()
    harness.watch.saved()
    await harness.settle()
    assert len(harness.of(SaveHeld)) == 1, "a held save is said once"

    identity = SourceIdentity(files=(str(harness.files.path),), args={})
    outcome = await harness.ask(
        lambda: harness.runner.apply(identity, wait=False, limit=timedelta(seconds=30))
    )

    assert outcome.converged  # type: ignore[attr-defined]
    assert harness.fake.units == {}


async def test_a_save_removing_some_services_is_applied_from_the_watcher(
    harness: Harness,
) -> None:
    harness.files.save(service("web"))
    harness.watch.saved()
    await harness.settle()

    assert set(harness.fake.units) == {"demo-web"}


async def test_apply_with_other_files_than_run_watches_is_refused(harness: Harness) -> None:
    other = SourceIdentity(files=("/elsewhere/Orchfile",), args={})
    with pytest.raises(ControlError, match="watches"):
        await harness.runner.apply(other, wait=False, limit=timedelta(seconds=5))


async def test_a_service_that_gave_up_is_retried_by_apply_through_run(harness: Harness) -> None:
    flaky = service("web", restart=restart(Restart.ALWAYS, delay=1, burst=2, interval=60))
    harness.files.save(flaky)
    harness.fake.run_then_exit("web", 1, after=SECOND)
    harness.watch.saved()
    await harness.settle()
    harness.fake.crash("web", 1)
    for _ in range(4):  # the fake's scripted exits are seen at the next pass: resyncs
        await harness.settle(31)
    assert state(await harness.status(), "web") is ServiceState.FAILED
    assert len(harness.of(GaveUp)) == 1

    harness.fake.keep_running("web")
    identity = SourceIdentity(files=(str(harness.files.path),), args={})
    outcome = await harness.ask(
        lambda: harness.runner.apply(identity, wait=True, limit=timedelta(seconds=30))
    )

    assert outcome.converged  # type: ignore[attr-defined]
    assert state(await harness.status(), "web") is ServiceState.RUNNING


async def test_restart_recreates_the_service_and_waits_for_it(harness: Harness) -> None:
    harness.fake.reset_calls()

    outcome = await harness.ask(
        lambda: harness.runner.restart(["worker"], limit=timedelta(seconds=30))
    )

    assert outcome.converged  # type: ignore[attr-defined]
    assert [(c.method, c.unit_id) for c in harness.fake.mutations if c.method != "annotate"] == [
        ("remove", "demo-worker"),
        ("create", "demo-worker"),
        ("start", "demo-worker"),
    ]


async def test_restart_of_an_unknown_service_is_refused_naming_the_known_ones(
    harness: Harness,
) -> None:
    with pytest.raises(ControlError, match=r"no service 'nope'.*web, worker"):
        await harness.runner.restart(["nope"], limit=timedelta(seconds=5))


async def test_down_tears_everything_down_and_ends_run(harness: Harness) -> None:
    result = await harness.ask(lambda: harness.runner.down(None))

    assert result.failures == ()  # type: ignore[attr-defined]
    assert result.left == ()  # type: ignore[attr-defined]
    assert harness.fake.units == {}
    await harness.settle()
    assert harness.task.done()
    assert harness.task.result() == result
    assert harness.heard.stops == 1


async def test_listeners_hear_of_every_pass_and_once_of_stopping(harness: Harness) -> None:
    first = harness.heard.passes[0]
    assert {s.name for s in first.result.plan.statuses} == {"web", "worker"}
    assert first.desired == harness.files.desired
    assert first.rejected is None
    assert [r.reachable for r in first.runtimes] == [True]
    before = len(harness.heard.passes)
    harness.runner.engine.wake.set()
    await harness.settle()
    assert len(harness.heard.passes) == before + 1

    harness.runner.stop()
    harness.runner.stop()
    await harness.settle()
    assert harness.heard.stops == 1


async def test_status_between_passes_reuses_the_last_observation_unless_woken(
    harness: Harness,
) -> None:
    harness.fake.delete_container("web")  # behind run's back: no event read yet
    quiet = await harness.status()
    harness.runner.engine.wake.set()  # what the event, once read, does
    woken = await harness.status()

    assert state(quiet, "web") is ServiceState.RUNNING  # nothing said otherwise yet
    web = next(s for s in woken.services if s.name == "web")
    assert (web.state, web.outlook) == (ServiceState.PENDING, Outlook.PROGRESSING)
    await harness.settle()
    assert state(await harness.status(), "web") is ServiceState.RUNNING


async def test_an_unreachable_runtime_is_retried_with_a_capped_backoff(harness: Harness) -> None:
    harness.fake.set_reachable(False)
    harness.fake.delete_task("worker")  # drift that must wait for the runtime
    harness.watch.saved()
    await harness.settle(60)
    harness.fake.set_reachable(True)
    await harness.settle(31)

    report = await harness.status()
    assert report.converged
    reach = report.reconciler.runtimes if report.reconciler else ()
    assert all(r.reachable for r in reach)
