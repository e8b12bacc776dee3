"""The engine over a fake driver, in virtual time: converge, idempotence, restarts,
drift, teardown, and a runtime that cannot be reached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import pytest_asyncio

from reconciler.app.engine import Engine, PassResult, progressing
from reconciler.controllers.actions import describe
from reconciler.drivers.fake import FakeDriver
from reconciler.errors import ImageNotFound, RuntimeFailure
from reconciler.model import labels
from reconciler.model.desired import CommandCheck, DesiredService, Restart, ServiceMode
from reconciler.model.status import Drift, ServiceState, ServiceStatus
from tests.support.desired import IMAGE, PROJECT, restart, service, stack
from tests.support.manual_clock import ManualClock

pytestmark = pytest.mark.asyncio
LIMIT = timedelta(seconds=10)


@dataclass
class World:
    clock: ManualClock
    fake: FakeDriver
    engines: list[Engine]

    def engine(self, *services: DesiredService) -> Engine:
        made = Engine(
            desired=stack(*services), drivers={ServiceMode.CONTAINER: self.fake}, now=self.clock
        )
        self.engines.append(made)
        return made

    async def apply(self, *services: DesiredService, wait: bool = False) -> PassResult:
        return await self.engine(*services).apply(wait=wait, limit=LIMIT)


@pytest_asyncio.fixture
async def world() -> AsyncIterator[World]:
    clock = ManualClock()
    made = World(
        clock=clock,
        fake=FakeDriver(project=PROJECT, clock=clock, images={IMAGE: "sha256:aaaa"}),
        engines=[],
    )
    yield made
    for engine in made.engines:
        await engine.close()


def state_of(result: PassResult, name: str) -> ServiceStatus:
    assert result.plan is not None
    return next(s for s in result.plan.statuses if s.name == name)


def stack_with_dependencies() -> tuple[DesiredService, ...]:
    return (
        service("web", requires=["migrate"], after=["db"]),
        service("migrate", oneshot=True, requires=["db"]),
        service("db", healthcheck=CommandCheck(command="pg_isready")),
    )


async def test_apply_converges_a_stack_in_dependency_order(world: World) -> None:
    world.fake.run_then_exit("migrate", 0)

    result = await world.apply(*stack_with_dependencies(), wait=True)

    assert result.plan is not None
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
    assert result.plan is not None
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


async def test_a_crash_is_restarted_after_restart_delay_in_virtual_time(world: World) -> None:
    web = service("web", restart=restart(Restart.ON_FAILURE, delay=2))
    await world.apply(web)
    world.fake.crash("web", 1)
    world.fake.reset_calls()

    waiting = await world.apply(web)
    world.clock.advance(1.9)
    still_waiting = await world.apply(web)
    starts_before_delay = world.fake.calls_of("start")
    world.clock.advance(0.1)
    restarted = await world.apply(web)

    assert state_of(waiting, "web").state is ServiceState.BACKOFF
    assert state_of(still_waiting, "web").state is ServiceState.BACKOFF
    assert starts_before_delay == []
    assert [c.unit_id for c in world.fake.calls_of("start")] == ["demo-web"]
    assert state_of(restarted, "web").state is ServiceState.RUNNING
    assert state_of(restarted, "web").restarts == 1


async def test_a_crash_loop_backs_off_doubling_then_fails_and_stays_failed(
    world: World,
) -> None:
    web = service("web", restart=restart(Restart.ALWAYS, delay=1, burst=3, interval=60))
    engine = world.engine(web)
    await engine.apply(wait=False, limit=LIMIT)
    delays = []
    for _ in range(3):
        world.fake.crash("web", 1)
        result = await engine.run_pass()
        if state_of(result, "web").state is ServiceState.FAILED:
            break
        assert result.plan is not None
        due = result.plan.requeue_at["web"]
        delays.append((due - world.clock()).total_seconds())
        world.clock.current = due
        await engine.run_pass()

    assert delays == [1, 2]
    assert state_of(result, "web").state is ServiceState.FAILED
    world.clock.advance(3600)
    assert state_of(await engine.run_pass(), "web").state is ServiceState.FAILED


async def test_apply_resets_a_failed_service(world: World) -> None:
    web = service("web", restart=restart(Restart.ALWAYS, delay=1, burst=1, interval=60))
    await world.apply(web)
    world.fake.crash("web", 1)
    failed = await world.engine(web).run_pass()
    world.clock.advance(1)

    again = await world.apply(web)

    assert state_of(failed, "web").state is ServiceState.FAILED
    assert state_of(again, "web").state is ServiceState.RUNNING
    assert labels.FAILED not in world.fake.units["demo-web"].labels


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
    await engine.apply(wait=False, limit=LIMIT)
    world.fake.delete_container("web")

    result = await engine.run_pass()

    assert result.plan is not None
    assert [describe(a) for a in result.plan.actions] == ["create web: container-missing"]
    assert state_of(result, "web").drift is Drift.CONTAINER_MISSING
    assert "demo-web" in world.fake.units


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

    assert result.plan is not None
    assert [describe(a) for a in result.plan.actions] == ["recreate web: image changed"]
    assert world.fake.units["demo-web"].labels[labels.IMAGE_DIGEST] == "sha256:bbbb"


async def test_down_removes_dependents_first_and_leaves_nothing(world: World) -> None:
    world.fake.run_then_exit("migrate", 0)
    engine = world.engine(*stack_with_dependencies())
    await engine.apply(wait=True, limit=LIMIT)
    world.fake.add_foreign("demo-mine")
    world.fake.reset_calls()

    errors = await engine.down()

    assert errors == []
    assert [c.unit_id for c in world.fake.calls_of("remove")] == [
        "demo-web",
        "demo-migrate",
        "demo-db",
    ]
    assert set(world.fake.units) == {"demo-mine"}


async def test_an_unreachable_runtime_is_not_empty_apply_does_nothing_and_says_so(
    world: World,
) -> None:
    await world.apply(service("web"))
    world.fake.set_reachable(False, reason="connection refused")
    world.fake.reset_calls()

    result = await world.engine(service("db")).apply(wait=False, limit=timedelta(milliseconds=200))

    assert result.unreachable == "connection refused"
    assert result.plan is None
    assert world.fake.calls == []
    assert "demo-web" in world.fake.units


async def test_a_running_oneshot_is_not_converged_yet(world: World) -> None:
    world.fake.run_then_exit("migrate", 0, after=timedelta(seconds=3))
    engine = world.engine(service("migrate", oneshot=True))

    result = await engine.run_pass()
    result = await engine.run_pass()

    assert state_of(result, "migrate").state is ServiceState.RUNNING
    assert result.plan is not None
    assert not result.plan.converged


async def test_a_plain_apply_keeps_going_while_a_required_oneshot_runs(world: World) -> None:
    world.fake.run_then_exit("migrate", 0, after=timedelta(seconds=3))
    engine = world.engine(service("migrate", oneshot=True), service("web", requires=["migrate"]))

    await engine.run_pass()
    result = await engine.run_pass()

    assert state_of(result, "web").state is ServiceState.BLOCKED
    assert result.plan is not None
    assert progressing(result.plan)


async def test_apply_gives_up_when_the_same_action_fails_twice_in_a_row(world: World) -> None:
    world.fake.fail_always("start", "demo-web", RuntimeFailure("exec: no such file"))

    result = await world.apply(service("web"))

    # The create's own start, then the start of the missing task twice: the same failure.
    assert [c.method for c in world.fake.calls if c.method == "start"] == ["start"] * 3
    (error,) = result.errors
    assert error == "start web: task-missing: failed: exec: no such file"
