"""The engine over a fake driver, in virtual time: converge, idempotence, restarts,
drift, failures retried or not, teardown, and a runtime that cannot be reached."""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from reconciler.app.engine import Engine, PassResult
from reconciler.app.journal import Journal
from reconciler.app.project_data import read_kept
from reconciler.clock import VirtualClock
from reconciler.controllers.actions import describe
from reconciler.drivers.fake import FakeDriver
from reconciler.errors import (
    Conflict,
    ImageNotFound,
    NotFound,
    RuntimeFailure,
    RuntimeUnavailable,
)
from reconciler.model import labels
from reconciler.model.desired import (
    CommandCheck,
    DesiredService,
    ProjectPaths,
    Restart,
    ServiceMode,
)
from reconciler.model.journal import (
    ActionFinished,
    ActionStarted,
    Entry,
    ExitOutcome,
    GaveUp,
    RuntimeBack,
    RuntimeLost,
    TaskExited,
)
from reconciler.model.status import Drift, Health, Outlook, ServiceState, ServiceStatus, Verb
from tests.support.desired import IMAGE, PROJECT, restart, service, stack
from tests.support.planning import FINGERPRINT_KEY

pytestmark = pytest.mark.asyncio
LIMIT = timedelta(seconds=10)


@dataclass
class World:
    clock: VirtualClock
    fake: FakeDriver
    engines: list[Engine]
    journal: Journal

    def engine(self, *services: DesiredService) -> Engine:
        made = Engine(
            desired=stack(*services),
            drivers={ServiceMode.CONTAINER: self.fake},
            clock=self.clock,
            journal=self.journal,
            fingerprint_key=FINGERPRINT_KEY,
        )
        self.engines.append(made)
        return made

    async def apply(self, *services: DesiredService, wait: bool = False) -> PassResult:
        return await self.drive(self.engine(*services), wait=wait)

    async def drive(self, engine: Engine, *, wait: bool = False) -> PassResult:
        return await self.clock.drive(engine.apply(wait=wait, limit=LIMIT))


@pytest_asyncio.fixture
async def world() -> AsyncIterator[World]:
    clock = VirtualClock()
    journal = Journal()
    made = World(
        clock=clock,
        fake=FakeDriver(project=PROJECT, clock=clock, images={IMAGE: "sha256:aaaa"}),
        engines=[],
        journal=journal,
    )
    yield made
    for engine in made.engines:
        await engine.close()


def state_of(result: PassResult, name: str) -> ServiceStatus:
    return next(s for s in result.plan.statuses if s.name == name)


def stack_with_dependencies() -> tuple[DesiredService, ...]:
    return (
        service("web", requires=["migrate"], after=["db"]),
        service("migrate", oneshot=True, requires=["db"]),
        service("db", healthcheck=CommandCheck(command="pg_isready")),
    )


class Recorded:
    """Every journal entry published while it is open, as a subscriber sees them."""

    def __init__(self, journal: Journal) -> None:
        self._subscribing = journal.subscribe()
        self._seen: list[Entry] = []

    def __enter__(self) -> Recorded:
        self._subscription = self._subscribing.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._drain()
        self._subscribing.__exit__(None, None, None)

    def _drain(self) -> None:
        queue = self._subscription.queue
        while not queue.empty():
            entry = queue.get_nowait()
            if entry is not None:
                self._seen.append(entry)

    def of(self, kind: type[Entry]) -> list[Entry]:
        self._drain()
        return [e for e in self._seen if isinstance(e, kind)]


async def test_apply_converges_a_stack_in_dependency_order(world: World) -> None:
    world.fake.run_then_exit("migrate", 0)

    result = await world.apply(*stack_with_dependencies(), wait=True)

    assert result.plan.converged
    assert [c.args["service"] for c in world.fake.calls_of("create")] == ["db", "migrate", "web"]
    assert [state_of(result, n).state for n in ("web", "migrate", "db")] == [
        ServiceState.RUNNING,
        ServiceState.COMPLETED,
        ServiceState.RUNNING,
    ]


async def test_a_second_apply_with_nothing_changed_issues_no_mutating_call(world: World) -> None:
    world.fake.run_then_exit("migrate", 0)
    await world.apply(*stack_with_dependencies(), wait=True)
    world.fake.reset_calls()

    result = await world.apply(*stack_with_dependencies(), wait=True)

    assert world.fake.mutations == []
    assert result.plan.converged


async def test_an_exit_left_alone_is_recorded_once_then_never_again(world: World) -> None:
    job = service("job", restart=restart(Restart.NO))
    world.fake.run_then_exit("job", 3)
    await world.apply(job)
    world.fake.reset_calls()

    result = await world.apply(job)

    assert world.fake.mutations == []
    assert state_of(result, "job").state is ServiceState.EXITED
    assert state_of(result, "job").exit_code == 3
    assert state_of(result, "job").outlook is Outlook.STUCK


async def test_a_crash_is_restarted_after_restart_delay_in_virtual_time(world: World) -> None:
    web = service("web", restart=restart(Restart.ON_FAILURE, delay=2))
    engine = world.engine(web)
    await world.drive(engine)
    world.fake.crash("web", 1)
    world.fake.reset_calls()

    waiting = await engine.run_pass()
    await world.clock.advance(1.9)
    still_waiting = await engine.run_pass()
    starts_before_delay = world.fake.calls_of("start")
    await world.clock.advance(0.1)
    restarted = await world.drive(engine)

    assert state_of(waiting, "web").state is ServiceState.BACKOFF
    assert state_of(waiting, "web").outlook is Outlook.WAITING
    assert state_of(still_waiting, "web").state is ServiceState.BACKOFF
    assert starts_before_delay == []
    assert [c.unit_id for c in world.fake.calls_of("start")] == ["demo-web"]
    assert state_of(restarted, "web").state is ServiceState.RUNNING
    assert state_of(restarted, "web").restarts == 1


async def test_apply_waits_out_a_backoff_in_virtual_time_when_asked_to_wait(
    world: World,
) -> None:
    web = service("web", restart=restart(Restart.ON_FAILURE, delay=3))
    engine = world.engine(web)
    await world.drive(engine)
    world.fake.crash("web", 1)
    started = world.clock.monotonic()

    result = await world.drive(engine, wait=True)

    assert result.plan.converged
    assert world.clock.monotonic() - started == pytest.approx(3, abs=0.1)


async def test_a_crash_loop_backs_off_doubling_then_fails_and_stays_failed(
    world: World,
) -> None:
    web = service("web", restart=restart(Restart.ALWAYS, delay=1, burst=3, interval=60))
    engine = world.engine(web)
    await world.drive(engine)
    delays = []
    with Recorded(world.journal) as recorded:
        for _ in range(3):
            world.fake.crash("web", 1)
            result = await engine.run_pass()
            if state_of(result, "web").state is ServiceState.FAILED:
                break
            due = result.plan.requeue_at["web"]
            delays.append((due - world.clock.now()).total_seconds())
            await world.clock.advance(delays[-1])
            await engine.run_pass()

    assert delays == [1, 2]
    assert state_of(result, "web").state is ServiceState.FAILED
    assert state_of(result, "web").outlook is Outlook.STUCK
    (gave_up,) = recorded.of(GaveUp)
    assert gave_up.line() == (
        "gave up on web after 3 starts in 60s (`reconciler restart web` or `reconciler apply` "
        "retries it)"
    )
    await world.clock.advance(3600)
    assert state_of(await engine.run_pass(), "web").state is ServiceState.FAILED


async def test_apply_resets_a_failed_service(world: World) -> None:
    web = service("web", restart=restart(Restart.ALWAYS, delay=1, burst=1, interval=60))
    await world.apply(web)
    world.fake.crash("web", 1)
    failed = await world.engine(web).run_pass()
    await world.clock.advance(1)

    again = await world.apply(web)

    assert state_of(failed, "web").state is ServiceState.FAILED
    assert state_of(again, "web").state is ServiceState.RUNNING
    assert labels.FAILED not in world.fake.units["demo-web"].labels


async def test_restart_recreates_the_named_service_only(world: World) -> None:
    await world.apply(service("web"), service("db"))
    world.fake.reset_calls()
    engine = world.engine(service("web"), service("db"))

    await world.clock.drive(
        engine.apply(wait=False, limit=LIMIT, recreate=frozenset({service("web").name}))
    )

    assert [(c.method, c.unit_id) for c in world.fake.mutations if c.method != "annotate"] == [
        ("remove", "demo-web"),
        ("create", "demo-web"),
        ("start", "demo-web"),
    ]


async def test_a_config_change_recreates_only_that_service(world: World) -> None:
    await world.apply(service("web", env={"A": "1"}), service("db"))
    world.fake.reset_calls()

    await world.apply(service("web", env={"A": "2"}), service("db"))

    assert [(c.method, c.unit_id) for c in world.fake.mutations if c.method != "annotate"] == [
        ("remove", "demo-web"),
        ("create", "demo-web"),
        ("start", "demo-web"),
    ]


async def test_a_container_deleted_behind_the_engines_back_is_recreated_as_drift(
    world: World,
) -> None:
    engine = world.engine(service("web"))
    await world.drive(engine)
    world.fake.delete_container("web")

    result = await engine.run_pass()

    assert [describe(a) for a in result.plan.actions] == [
        "create web: deleted outside the reconciler"
    ]
    assert state_of(result, "web").drift is Drift.CONTAINER_MISSING
    assert state_of(result, "web").planned is Verb.CREATE
    assert "demo-web" in world.fake.units


async def test_a_unit_deleted_while_it_is_being_started_is_not_reported_as_a_failure(
    world: World,
) -> None:
    engine = world.engine(service("web"))
    await world.drive(engine)
    world.fake.delete_task("web")
    real_start = world.fake.start

    async def deleted_meanwhile(desired: DesiredService) -> None:
        world.fake.units.pop("demo-web")  # `ctr c rm` between observation and start
        world.fake.start = real_start  # type: ignore[method-assign]
        raise NotFound("container demo-web: not found")

    world.fake.start = deleted_meanwhile  # type: ignore[method-assign]
    with Recorded(world.journal) as recorded:
        result = await world.drive(engine)

    failures = [e for e in recorded.of(ActionFinished) if e.error is not None]  # type: ignore[union-attr]
    assert failures == []
    assert state_of(result, "web").state is ServiceState.RUNNING


async def test_a_task_deleted_behind_the_engines_back_is_started_again(world: World) -> None:
    await world.apply(service("web"))
    world.fake.delete_task("web")
    world.fake.reset_calls()

    await world.apply(service("web"))

    assert [c.method for c in world.fake.mutations] == ["start", "annotate"]


async def test_removed_services_are_deleted_and_other_units_never_touched(world: World) -> None:
    await world.apply(service("web"), service("old"))
    world.fake.add_foreign("demo-mine")
    world.fake.add_unit("web", project="other")
    world.fake.reset_calls()

    await world.apply(service("web"))

    assert [(c.method, c.unit_id) for c in world.fake.mutations] == [("remove", "demo-old")]
    assert set(world.fake.units) == {"demo-web", "demo-mine", "other-web"}


async def test_a_disabled_service_is_stopped_and_removed(world: World) -> None:
    await world.apply(service("web"))

    result = await world.apply(service("web", disabled=True))

    assert "demo-web" not in world.fake.units
    assert state_of(result, "web").state is ServiceState.DISABLED


async def test_recreate_always_recreates_once_per_apply(world: World) -> None:
    web = service("web", recreate_always=True)
    await world.apply(web)
    world.fake.reset_calls()

    await world.apply(web)

    assert len(world.fake.calls_of("remove")) == 1
    assert len(world.fake.calls_of("create")) == 1


async def test_an_image_that_cannot_be_pulled_fails_that_service_only(world: World) -> None:
    world.fake.fail_inputs("web", ImageNotFound("service 'web': image x not found"))

    result = await world.apply(service("web"), service("db"))

    assert state_of(result, "web").state is ServiceState.FAILED
    assert state_of(result, "web").reason == "service 'web': image x not found"
    assert state_of(result, "db").state is ServiceState.RUNNING


async def test_a_tag_now_resolving_to_another_digest_recreates_on_apply(world: World) -> None:
    await world.apply(service("web"))
    world.fake.publish_image(IMAGE, "sha256:bbbb")

    result = await world.engine(service("web")).run_pass()

    assert [describe(a) for a in result.plan.actions] == ["recreate web: image changed"]
    assert world.fake.units["demo-web"].labels[labels.IMAGE_DIGEST] == "sha256:bbbb"


async def test_down_removes_dependents_first_and_leaves_nothing(world: World) -> None:
    world.fake.run_then_exit("migrate", 0)
    engine = world.engine(*stack_with_dependencies())
    await world.drive(engine, wait=True)
    world.fake.add_foreign("demo-mine")
    world.fake.reset_calls()

    result = await engine.down()

    assert result.failures == ()
    assert result.left == ()
    assert [c.unit_id for c in world.fake.calls_of("remove")] == [
        "demo-web",
        "demo-migrate",
        "demo-db",
    ]
    assert set(world.fake.units) == {"demo-mine"}


async def test_an_unreachable_runtime_is_not_empty_and_apply_retries_until_its_limit(
    world: World,
) -> None:
    await world.apply(service("web"))
    world.fake.set_reachable(False, reason="connection refused")
    world.fake.reset_calls()
    engine = world.engine(service("db"))
    started = world.clock.monotonic()

    with Recorded(world.journal) as recorded:
        result = await world.clock.drive(engine.apply(wait=False, limit=timedelta(seconds=5)))

    assert result.observed.unreachable == {ServiceMode.CONTAINER: "connection refused"}
    assert state_of(result, "db").state is ServiceState.PENDING
    assert world.fake.calls == []
    assert "demo-web" in world.fake.units
    assert world.clock.monotonic() - started >= 5
    assert len(recorded.of(RuntimeLost)) == 1


async def test_a_runtime_back_is_said_once_with_how_long_it_was_away(world: World) -> None:
    engine = world.engine(service("web"))
    await world.drive(engine)
    world.fake.set_reachable(False)
    with Recorded(world.journal) as recorded:
        await engine.run_pass()
        await engine.run_pass()
        await world.clock.advance(7)
        world.fake.set_reachable(True)
        await engine.run_pass()
        await engine.run_pass()

    (lost,) = recorded.of(RuntimeLost)
    (back,) = recorded.of(RuntimeBack)
    assert back.after == timedelta(seconds=7)  # type: ignore[union-attr]
    assert lost.line() == "containerd unreachable: connection refused"


async def test_a_running_oneshot_is_not_converged_yet(world: World) -> None:
    world.fake.run_then_exit("migrate", 0, after=timedelta(seconds=3))
    engine = world.engine(service("migrate", oneshot=True))

    await engine.run_pass()
    result = await engine.run_pass()

    assert state_of(result, "migrate").state is ServiceState.RUNNING
    assert not result.plan.converged
    assert result.plan.progressing


async def test_a_plain_apply_keeps_going_while_a_required_oneshot_runs(world: World) -> None:
    world.fake.run_then_exit("migrate", 0, after=timedelta(seconds=3))
    engine = world.engine(service("migrate", oneshot=True), service("web", requires=["migrate"]))

    result = await world.drive(engine)

    assert state_of(result, "web").state is ServiceState.RUNNING
    assert state_of(result, "migrate").state is ServiceState.COMPLETED


async def test_a_terminal_failure_that_repeats_fails_the_service_with_the_runtimes_reason(
    world: World,
) -> None:
    world.fake.fail_always("start", "demo-web", RuntimeFailure("runc: memory.max: invalid"))
    started = world.clock.monotonic()

    result = await world.apply(service("web"), wait=True)

    web = state_of(result, "web")
    assert web.state is ServiceState.FAILED
    assert web.outlook is Outlook.STUCK
    assert web.last_error == "runc: memory.max: invalid"
    assert web.reason == "runc: memory.max: invalid"
    assert len(world.fake.calls_of("start")) == 2  # believed once it repeats
    assert world.clock.monotonic() - started < 2


async def test_a_retryable_failure_is_retried_with_backoff_until_it_passes(
    world: World,
) -> None:
    for _ in range(3):
        world.fake.fail_next("start", "demo-web", RuntimeUnavailable("restarting"))
    web = service("web")
    engine = world.engine(web)
    with Recorded(world.journal) as recorded:
        first = await engine.run_pass()
        second = await engine.run_pass()
        result = await world.drive(engine)

    assert state_of(first, "web").planned is Verb.CREATE
    assert state_of(second, "web").state is ServiceState.PENDING
    assert state_of(second, "web").outlook is Outlook.PROGRESSING
    assert state_of(result, "web").state is ServiceState.RUNNING
    retries = [e for e in recorded.of(ActionFinished) if e.retrying]  # type: ignore[union-attr]
    assert len(retries) == 1


async def test_a_failure_known_to_be_terminal_fails_the_service_at_once(world: World) -> None:
    world.fake.fail_always("create", "demo-web", Conflict("container 'demo-web' is not ours"))
    started = world.clock.monotonic()

    result = await world.apply(service("web"), wait=True)

    assert state_of(result, "web").state is ServiceState.FAILED
    assert len(world.fake.calls_of("create")) == 1
    assert world.clock.monotonic() - started < 1


async def test_a_terminal_failure_seen_once_is_retried_as_after_a_runtime_restart(
    world: World,
) -> None:
    world.fake.fail_next("start", "demo-web", RuntimeFailure("failed to mount rootfs"))

    result = await world.apply(service("web"), wait=True)

    assert state_of(result, "web").state is ServiceState.RUNNING
    assert len(world.fake.calls_of("start")) == 2


async def test_a_full_disk_in_a_drivers_write_fails_that_service_naming_the_path(
    world: World,
) -> None:
    await world.apply(service("other"), wait=True)
    running = world.fake.task_of("other")
    full = OSError(errno.ENOSPC, "No space left on device", "/state/host/demo-web.json")
    world.fake.fail_always("create", "demo-web", full)

    result = await world.apply(service("web"), service("other"), wait=True)

    web = state_of(result, "web")
    assert web.state is ServiceState.FAILED
    assert web.reason is not None
    assert web.reason.startswith("no space left on the filesystem holding /state/host/demo-web")
    assert state_of(result, "other").state is ServiceState.RUNNING
    assert world.fake.task_of("other") == running


async def test_an_oom_kill_is_reported_as_such(world: World) -> None:
    web = service("web", restart=restart(Restart.NO))
    engine = world.engine(web)
    await world.drive(engine)
    world.fake.crash("web", oom=True)
    with Recorded(world.journal) as recorded:
        result = await engine.run_pass()

    status = state_of(result, "web")
    assert status.state is ServiceState.EXITED
    assert status.oom_killed
    assert status.reason == "oom-killed; not restarted (RESTART no)"
    (exited,) = recorded.of(TaskExited)
    assert exited.oom_killed  # type: ignore[union-attr]
    assert exited.outcome is ExitOutcome.STAY  # type: ignore[union-attr]


async def test_a_fresh_look_at_a_failing_check_within_readiness_is_starting_not_unhealthy(
    world: World,
) -> None:
    db = service(
        "db", healthcheck=CommandCheck(command="pg_isready"), readiness_timeout=timedelta(minutes=1)
    )
    await world.drive(world.engine(db))  # started now, by another process
    world.fake.script_check("db", 1)

    young = await world.engine(db).plan_only()
    await world.clock.advance(61)
    old = await world.engine(db).plan_only()

    assert state_of(young, "db").health is Health.STARTING
    assert state_of(young, "db").health_detail == "exit code 1 from `pg_isready`"
    assert state_of(old, "db").health is Health.UNHEALTHY


async def test_a_service_removed_from_the_orchfile_takes_its_log_files_along(
    world: World, tmp_path: Path
) -> None:
    paths = ProjectPaths(project_dir=tmp_path, state_dir=tmp_path / "state")
    paths.logs.mkdir(parents=True)
    for name in ("old.log", "old.err", "web.log", "notes.txt"):
        (paths.logs / name).write_text("x\n")

    def engine(*services: DesiredService) -> Engine:
        made = Engine(
            desired=replace(stack(*services), paths=paths),
            drivers={ServiceMode.CONTAINER: world.fake},
            clock=world.clock,
            fingerprint_key=FINGERPRINT_KEY,
        )
        world.engines.append(made)
        return made

    await world.drive(engine(service("web"), service("old")))
    await world.drive(engine(service("web")))

    assert sorted(p.name for p in paths.logs.iterdir()) == ["notes.txt", "web.log"]


async def test_a_service_that_was_healthy_and_fails_three_checks_is_restarted_by_its_policy(
    world: World,
) -> None:
    web = service(
        "web",
        healthcheck=CommandCheck(command="check"),
        restart=restart(Restart.ALWAYS, delay=2),
    )
    world.fake.script_check("web", 0)
    engine = world.engine(web)
    await world.drive(engine, wait=True)
    await engine.run_pass()  # its probe loop follows it now
    await world.clock.advance(1)
    healthy = engine.knowledge.get(web.name)
    world.fake.script_check("web", 1)
    world.fake.reset_calls()

    await world.clock.advance(5 * 2)
    two_failures = engine.knowledge.get(web.name)
    await world.clock.advance(5)
    failing = await engine.run_pass()
    starts_within_the_delay = world.fake.calls_of("start")
    await world.clock.advance(2)
    with Recorded(world.journal) as seen:
        await engine.run_pass()
        await world.clock.advance(0)

    assert healthy.health is Health.HEALTHY
    assert (two_failures.health, two_failures.failed_checks) == (Health.HEALTHY, 2)
    assert state_of(failing, "web").health is Health.UNHEALTHY
    assert "unhealthy for 3 checks (exit code 1 from `check`); restarting in" in str(
        state_of(failing, "web").reason
    )
    assert starts_within_the_delay == []
    assert [c.method for c in world.fake.mutations] == ["stop", "start", "annotate"]
    started = [e for e in seen.of(ActionStarted) if isinstance(e, ActionStarted)]
    assert [e.line() for e in started][-1].endswith(
        "restart web: unhealthy for 3 checks (exit code 1 from `check`) (RESTART always)"
    )
    assert engine.knowledge.get(web.name).health is Health.NONE


async def test_an_unhealthy_service_with_restart_no_is_left_running_and_said_so(
    world: World,
) -> None:
    web = service("web", healthcheck=CommandCheck(command="check"))
    world.fake.script_check("web", 0)
    engine = world.engine(web)
    await world.drive(engine, wait=True)
    await engine.run_pass()
    await world.clock.advance(1)
    world.fake.script_check("web", 1)
    world.fake.reset_calls()

    await world.clock.advance(20)
    result = await engine.run_pass()

    assert world.fake.mutations == []
    assert state_of(result, "web").state is ServiceState.RUNNING
    assert state_of(result, "web").outlook is Outlook.STUCK
    assert str(state_of(result, "web").reason).endswith("; not restarted (RESTART no)")


async def test_a_dependent_is_restarted_after_what_it_requires_is_restarted(
    world: World,
) -> None:
    db = service("db", restart=restart(Restart.ALWAYS, delay=1))
    web = service("web", requires=["db"])
    engine = world.engine(db, web)
    await world.drive(engine, wait=True)
    world.fake.crash("db", 1)
    world.fake.reset_calls()
    await world.clock.advance(1)

    with Recorded(world.journal) as seen:
        await world.drive(engine)

    started = [e for e in seen.of(ActionStarted) if isinstance(e, ActionStarted)]
    assert [f"{e.verb.value} {e.service}: {e.cause}" for e in started] == [
        "restart db: exit code 1 (RESTART always)",
        "restart web: db was restarted",
    ]
    assert [(c.method, c.unit_id) for c in world.fake.mutations if c.method != "annotate"] == [
        ("start", "demo-db"),
        ("stop", "demo-web"),
        ("start", "demo-web"),
    ]


async def with_state(world: World, engine: Engine, state: Path) -> Engine:
    engine.desired = replace(
        engine.desired, paths=ProjectPaths(project_dir=state.parent, state_dir=state)
    )
    await world.drive(engine, wait=True)
    (state / "logs").mkdir(parents=True)
    for name in ("web.log", "web.log.1", "web.log.marks", "db.log", "db.err"):
        (state / "logs" / name).write_text("x\n")
    (state / "log-limits.json").write_text("{}")
    (state / "volumes" / "data").mkdir(parents=True)
    (state / "volumes" / "data" / "table").write_text("rows\n")
    return engine


async def test_down_takes_the_projects_logs_and_keeps_its_volumes_saying_so(
    world: World, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    engine = await with_state(world, world.engine(service("web"), service("db")), state)

    result = await engine.down()

    assert result.kept_volumes == ("data",)
    assert not (state / "logs").exists()
    assert not (state / "log-limits.json").exists()
    assert (state / "volumes" / "data" / "table").read_text() == "rows\n"
    kept = read_kept(state)
    assert kept is not None
    assert kept.names == ("data",)


async def test_down_with_volumes_takes_them_and_the_record_too(
    world: World, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    engine = await with_state(world, world.engine(service("web")), state)
    (state / "kept-volumes.json").write_text('{"at": "2026-01-01T00:00:00+00:00", "volumes": []}')

    result = await engine.down(volumes=True)

    assert result.removed_volumes == ("data",)
    assert sorted(p.name for p in state.iterdir()) == []


async def test_a_down_that_leaves_something_running_keeps_the_data_for_the_next(
    world: World, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    engine = await with_state(world, world.engine(service("web")), state)
    world.fake.fail_always("remove", "demo-web", RuntimeFailure("shim gone"))

    result = await engine.down(volumes=True)

    assert result.failures
    assert (state / "logs" / "web.log").exists()
    assert (state / "volumes" / "data").is_dir()


async def test_a_runtime_error_quoting_a_secret_is_redacted_everywhere_it_is_shown(
    world: World,
) -> None:
    web = service("web", env={"TOKEN": "s3cr3t-canary"})
    world.fake.fail_always(
        "create", "demo-web", RuntimeFailure('runc refused env "TOKEN=s3cr3t-canary"')
    )

    with Recorded(world.journal) as seen:
        result = await world.apply(web)

    finished = [e for e in seen.of(ActionFinished) if isinstance(e, ActionFinished)]
    shown = [str(state_of(result, "web").reason), *(str(e.error) for e in finished)]
    assert any("TOKEN=***" in text for text in shown)
    assert not any("s3cr3t-canary" in text for text in shown)
