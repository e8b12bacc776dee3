"""The control API: the wire form carries the typed model unchanged, and a real server on
a unix socket answers a real client with what the runner says (a fake driver behind)."""

from __future__ import annotations

import asyncio
import contextlib
import stat
import typing
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from reconciler_api import control_pb2 as pb

from reconciler.app.control.client import ControlClient
from reconciler.app.control.server import ControlServer, event_field
from reconciler.app.control.socket import MAX_SOCKET_PATH, control_socket
from reconciler.app.control.wire import from_message, to_message
from reconciler.app.desired_source import DesiredSource
from reconciler.app.engine import Engine
from reconciler.app.journal import Journal
from reconciler.app.loading import SourceIdentity
from reconciler.app.results import DownResult, Outcome
from reconciler.app.runner import Runner
from reconciler.clock import SystemClock
from reconciler.drivers.fake import FakeDriver
from reconciler.errors import ControlError, Diagnostic, InvalidOrchfile, Location
from reconciler.model import journal
from reconciler.model.desired import DesiredStack, ServiceMode
from reconciler.model.status import (
    Activity,
    Blocker,
    DesiredState,
    Drift,
    Health,
    Leaks,
    Load,
    OrchfileStatus,
    Outlook,
    ReconcilerInfo,
    RejectedSave,
    Relation,
    RuntimeReach,
    ServiceState,
    ServiceStatus,
    StatusReport,
    Verb,
)
from tests.support.desired import IMAGE, PROJECT, service, stack
from tests.support.planning import FINGERPRINT_KEY
from tests.support.polling import eventually_async

AT = datetime(2026, 11, 29, 17, 20, 0, 123000, tzinfo=UTC)

EVERYTHING = StatusReport(
    project="demo",
    namespace="orch",
    converged=False,
    orchfile=OrchfileStatus(files=("/p/Orchfile", "/p/dev.orch"), valid=False, error="x:1: y"),
    services=(
        ServiceStatus(
            name="web",
            mode=ServiceMode.CONTAINER,
            desired=DesiredState.RUNNING,
            state=ServiceState.BLOCKED,
            outlook=Outlook.WAITING,
            health=Health.UNHEALTHY,
            health_detail="HTTP 404 from http://127.0.0.1:8080/",
            pid=4242,
            restarts=3,
            exit_code=137,
            oom_killed=True,
            image="localhost:5000/web:1",
            drift=Drift.CONFIG_CHANGED,
            reason="waiting for db (unhealthy)",
            since=AT,
            blocker=Blocker(
                on="db",
                relation=Relation.REQUIRES,
                state=ServiceState.RUNNING,
                health=Health.UNHEALTHY,
                outlook=Outlook.WAITING,
            ),
            planned=Verb.RECREATE,
            activity=Activity(
                verb=Verb.CREATE, cause="not created yet", since=AT, step=ServiceState.PULLING
            ),
            backoff_until=AT + timedelta(seconds=4),
            last_error="runc: bad",
        ),
        ServiceStatus(
            name="job",
            mode=ServiceMode.HOST,
            desired=DesiredState.COMPLETED,
            state=ServiceState.COMPLETED,
        ),
    ),
    leaks=Leaks(tasks=("demo-x",), leases=("reconciler-1",)),
    runtime_error="containerd unreachable",
    reconciler=ReconcilerInfo(
        pid=77,
        started_at=AT,
        files=("/p/Orchfile",),
        last_load=Load(at=AT, digest="abc"),
        rejected_save=RejectedSave(at=AT, error="held", held=True),
        passes=12,
        last_pass_at=AT,
        last_pass_duration=timedelta(milliseconds=8),
        runtimes=(
            RuntimeReach(mode=ServiceMode.CONTAINER, reachable=False, since=AT, reason="refused"),
        ),
    ),
)

ENTRIES: tuple[journal.Entry, ...] = (
    journal.DesiredLoaded(at=AT, digest="d", services=3, repaired=True),
    journal.SaveRejected(at=AT, error="Orchfile:3: bad"),
    journal.SaveHeld(at=AT, files=("/p/Orchfile",), services=("web", "db")),
    journal.ActionStarted(at=AT, service="web", verb=Verb.RECREATE, cause="config changed"),
    journal.ActionFinished(
        at=AT,
        service="web",
        verb=Verb.CREATE,
        cause="c",
        duration=timedelta(seconds=1.5),
        error="boom",
        retrying=True,
    ),
    journal.Stopping(at=AT, service="web", signal="SIGTERM", grace=timedelta(seconds=10)),
    journal.TaskExited(
        at=AT,
        service="web",
        exit_code=137,
        oom_killed=True,
        outcome=journal.ExitOutcome.BACKOFF,
        delay=timedelta(seconds=2),
    ),
    journal.HealthChanged(at=AT, service="web", health=Health.HEALTHY, detail="HTTP 200"),
    journal.GaveUp(at=AT, service="web", starts=5, interval=timedelta(seconds=10)),
    journal.RuntimeLost(at=AT, mode=ServiceMode.CONTAINER, reason="refused"),
    journal.RuntimeBack(at=AT, mode=ServiceMode.HOST, after=timedelta(seconds=3)),
    journal.Converged(at=AT, services=4),
)


def test_a_status_with_every_field_set_crosses_the_wire_unchanged() -> None:
    message = to_message(EVERYTHING, pb.StatusReport())
    assert from_message(StatusReport, pb.StatusReport.FromString(message.SerializeToString())) == (
        EVERYTHING
    )


def test_a_status_with_nothing_optional_crosses_the_wire_with_nones() -> None:
    bare = replace(
        EVERYTHING, services=EVERYTHING.services[1:], reconciler=None, runtime_error=None
    )
    assert from_message(StatusReport, to_message(bare, pb.StatusReport())) == bare


def test_the_proto_covers_every_entry_of_the_journal() -> None:
    kinds = {type(entry) for entry in ENTRIES}
    assert kinds == set(typing.get_args(journal.Entry))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: type(e).__name__)
def test_every_journal_entry_crosses_the_wire_unchanged(entry: journal.Entry) -> None:
    event = pb.Event(dropped=2)
    to_message(entry, getattr(event, event_field(entry)))
    wire = pb.Event.FromString(event.SerializeToString())
    field = wire.WhichOneof("entry")
    assert field == event_field(entry)
    assert from_message(type(entry), getattr(wire, field)) == entry


def test_outcomes_and_down_results_cross_the_wire_unchanged() -> None:
    outcome = Outcome(report=EVERYTHING, converged=False, timed_out=True)
    assert from_message(Outcome, to_message(outcome, pb.Outcome())) == outcome
    down = DownResult(failures=("web: boom",), left=("demo-web",), unreachable=None)
    assert from_message(DownResult, to_message(down, pb.DownResult())) == down


def test_the_socket_is_named_by_namespace_and_project_or_a_digest_when_too_long(
    tmp_path: Path,
) -> None:
    assert control_socket(tmp_path, "orch", "demo") == tmp_path / "control/orch/demo.sock"
    long = control_socket(tmp_path, "n" * 60, "p" * 60)
    assert long.parent == tmp_path / "control"
    assert len(str(long)) <= MAX_SOCKET_PATH
    assert long == control_socket(tmp_path, "n" * 60, "p" * 60)


# A real server and client, with a fake driver behind the runner.


@dataclass
class Served:
    runner: Runner
    fake: FakeDriver
    client: ControlClient
    socket: Path
    orchfile: Path
    run: asyncio.Task[DownResult | None]


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    clock = SystemClock()
    fake = FakeDriver(project=PROJECT, clock=clock, images={IMAGE: "sha256:a"})
    orchfile = tmp_path / "Orchfile"
    orchfile.write_text("two services\n")
    desired: DesiredStack = replace(stack(service("web"), service("db")), files=(orchfile,))
    journal_ = Journal()
    engine = Engine(
        desired=desired,
        drivers={ServiceMode.CONTAINER: fake},
        clock=clock,
        journal=journal_,
        fingerprint_key=FINGERPRINT_KEY,
    )

    def load() -> DesiredStack:
        if orchfile.read_text().startswith("broken"):
            raise InvalidOrchfile(
                [Diagnostic(location=Location(file=str(orchfile), line=2), message="bad line")]
            )
        return desired

    source = DesiredSource(
        load=load,
        identity=SourceIdentity(files=(str(orchfile),), args={}),
        initial=desired,
        clock=clock,
        journal=journal_,
    )

    @contextlib.asynccontextmanager
    async def no_watch(paths: object, on_saved: object) -> AsyncIterator[typing.Any]:
        class Quiet:
            def watch(self, paths: object) -> None:
                pass

        yield Quiet()

    runner = Runner(engine, source, watch=no_watch, handle_signals=False)
    socket = control_socket(tmp_path / "state", "orch", PROJECT)
    server = ControlServer(runner, socket, state_dir=tmp_path / "state")
    await server.start()
    run = asyncio.ensure_future(runner.run())
    client = ControlClient(socket)
    try:
        yield Served(runner, fake, client, socket, orchfile, run)
    finally:
        await client.close()
        runner.stop()
        await asyncio.gather(run, return_exceptions=True)
        await engine.close()
        journal_.close()
        await server.stop()


@pytest.mark.asyncio
async def test_the_socket_is_root_only(served: Served) -> None:
    assert stat.S_IMODE(served.socket.stat().st_mode) == 0o600
    assert stat.S_IMODE(served.socket.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(served.socket.parent.parent.stat().st_mode) == 0o700
    assert served.client.listening()


@pytest.mark.asyncio
async def test_status_through_the_api_is_the_runners_live_view(served: Served) -> None:
    await _converged(served)
    report = await served.client.status()
    assert report.converged
    assert [s.name for s in report.services] == ["web", "db"]
    assert report.reconciler is not None
    assert report.reconciler.passes >= 1


@pytest.mark.asyncio
async def test_events_stream_what_run_does(served: Served) -> None:
    await _converged(served)
    seen: list[journal.Entry] = []

    async def follow() -> None:
        async for entry, dropped in served.client.events():
            assert dropped == 0
            seen.append(entry)
            if isinstance(entry, journal.ActionFinished):
                return

    follower = asyncio.ensure_future(follow())
    # The stream is open (subscribed) before the action it must see.
    await eventually_async(
        lambda: served.runner.engine.journal.subscribers > 0, what="the subscription"
    )
    outcome = await served.client.restart(["db"], limit=timedelta(seconds=10))
    await asyncio.wait_for(follower, timeout=10)

    assert outcome.converged
    started = [e for e in seen if isinstance(e, journal.ActionStarted)]
    assert [(e.verb, e.service, e.cause) for e in started] == [
        (Verb.RECREATE, "db", "restart requested")
    ]


@pytest.mark.asyncio
async def test_an_apply_with_a_broken_orchfile_is_refused_with_its_file_line_errors(
    served: Served,
) -> None:
    served.orchfile.write_text("broken\n")
    identity = SourceIdentity(files=(str(served.orchfile),), args={})
    with pytest.raises(InvalidOrchfile) as refused:
        await served.client.apply(identity, wait=False, limit=timedelta(seconds=5))
    assert [str(d) for d in refused.value.diagnostics] == [f"{served.orchfile}:2: bad line"]


@pytest.mark.asyncio
async def test_an_apply_naming_other_files_is_refused_in_one_line(served: Served) -> None:
    other = SourceIdentity(files=("/else/Orchfile",), args={})
    with pytest.raises(ControlError, match="watches"):
        await served.client.apply(other, wait=False, limit=timedelta(seconds=5))


@pytest.mark.asyncio
async def test_down_through_the_api_empties_the_project_and_ends_run(served: Served) -> None:
    await _converged(served)
    result = await served.client.down(None)
    assert result == DownResult(failures=(), left=())
    assert served.fake.units == {}
    assert await asyncio.wait_for(served.run, timeout=10) == result


async def _converged(served: Served) -> None:
    async def converged() -> bool:
        return (await served.runner.status()).converged

    await eventually_async(converged, what="convergence")
