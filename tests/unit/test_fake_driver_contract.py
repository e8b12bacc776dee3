"""The `Driver` contract held against the in-memory fake (the e2e contract suite holds the
real drivers to the same promises), plus the fake's own test controls."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.clock import VIRTUAL_EPOCH as EPOCH
from reconciler.clock import VirtualClock
from reconciler.controllers.driver import Driver
from reconciler.controllers.fingerprint import fingerprint
from reconciler.drivers.fake import FakeDriver
from reconciler.errors import Conflict, ImageNotFound, RuntimeUnavailable, ServiceConfigError
from reconciler.model.desired import DesiredService, RegistryImage, ServiceMode
from reconciler.model.events import Resynced, UnitDeleted, UnitExited
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ImageMissing, ServiceInputs
from reconciler.model.observed import Observed, ObservedUnit, TaskPhase, Unreachable
from tests.support.desired import IMAGE, PROJECT, service
from tests.support.planning import FINGERPRINT_KEY

pytestmark = pytest.mark.asyncio
GRACE = timedelta(seconds=1)


@pytest.fixture(params=[ServiceMode.CONTAINER, ServiceMode.HOST])
def fake(request: pytest.FixtureRequest) -> FakeDriver:
    return FakeDriver(
        project=PROJECT, mode=request.param, clock=VirtualClock(), images={IMAGE: "sha256:a"}
    )


async def print_of(driver: Driver, svc: DesiredService) -> Fingerprint:
    got = await driver.inputs(svc, fetch=True)
    assert isinstance(got, ServiceInputs)
    return fingerprint(
        svc, image_digest=got.image_digest, env_files=got.env_files, key=FINGERPRINT_KEY
    )


async def created(driver: Driver, svc: DesiredService) -> str:
    await driver.create(svc, await print_of(driver, svc))
    return f"{PROJECT}-{svc.name}"


async def unit_of(driver: Driver, unit_id: str) -> ObservedUnit | None:
    observed = await driver.observe(PROJECT)
    assert isinstance(observed, Observed)
    return observed.unit(unit_id)


async def test_the_fake_is_a_driver(fake: FakeDriver) -> None:
    driver: Driver = fake
    assert driver.mode in (ServiceMode.CONTAINER, ServiceMode.HOST)


async def test_a_created_unit_is_observed_with_its_labels_and_no_process(
    fake: FakeDriver,
) -> None:
    web = service("web")
    unit_id = await created(fake, web)

    unit = await unit_of(fake, unit_id)

    assert unit is not None
    assert (unit.mode, unit.project, unit.service) == (fake.mode, PROJECT, "web")
    assert unit.config_hash == (await print_of(fake, web)).config_hash
    assert unit.task is None


async def test_a_started_unit_runs_and_a_second_start_keeps_it(fake: FakeDriver) -> None:
    web = service("web")
    unit_id = await created(fake, web)
    await fake.start(web)
    first = await unit_of(fake, unit_id)
    await fake.start(web)
    second = await unit_of(fake, unit_id)

    assert first is not None
    assert first.task is not None
    assert first.task.phase is TaskPhase.RUNNING
    assert second is not None
    assert second.task == first.task


async def test_an_exit_is_observed_with_its_code_and_time_and_reported_as_an_event(
    fake: FakeDriver,
) -> None:
    web = service("web")
    unit_id = await created(fake, web)
    events = fake.events()
    assert await anext(events) == Resynced()
    await fake.start(web)

    fake.crash("web", 3)
    event = await anext(events)
    unit = await unit_of(fake, unit_id)
    await events.aclose()  # type: ignore[attr-defined]

    assert event == UnitExited(unit_id=unit_id, exit_code=3, exited_at=EPOCH)
    assert unit is not None
    assert unit.task is not None
    assert (unit.task.phase, unit.task.exit_code, unit.task.exited_at) == (
        TaskPhase.STOPPED,
        3,
        EPOCH,
    )


async def test_a_scripted_exit_happens_when_virtual_time_says_so() -> None:
    clock = VirtualClock()
    fake = FakeDriver(project=PROJECT, clock=clock, images={IMAGE: "sha256:a"})
    job = service("job")
    fake.run_then_exit("job", 0, after=timedelta(seconds=30))
    await created(fake, job)
    await fake.start(job)

    await clock.advance(29)
    before = fake.task_of("job")
    assert before is not None
    assert before.phase is TaskPhase.RUNNING
    await clock.advance(1)
    after = fake.task_of("job")

    assert after is not None
    assert (after.phase, after.exit_code) == (TaskPhase.STOPPED, 0)
    assert after.exited_at == EPOCH + timedelta(seconds=30)


async def test_starting_again_replaces_a_stopped_process(fake: FakeDriver) -> None:
    web = service("web")
    unit_id = await created(fake, web)
    await fake.start(web)
    fake.crash("web", 1)
    first = await unit_of(fake, unit_id)
    await fake.start(web)
    second = await unit_of(fake, unit_id)

    assert first is not None
    assert first.task is not None
    assert second is not None
    assert second.task is not None
    assert second.task.phase is TaskPhase.RUNNING
    assert first.task.pid != second.task.pid


async def test_stop_ends_the_process_and_keeps_the_unit(fake: FakeDriver) -> None:
    web = service("web")
    unit_id = await created(fake, web)
    await fake.start(web)

    await fake.stop(unit_id, grace=GRACE)
    await fake.stop(unit_id, grace=GRACE)

    unit = await unit_of(fake, unit_id)
    assert unit is not None
    assert unit.task is None


async def test_remove_leaves_nothing_and_can_be_repeated(fake: FakeDriver) -> None:
    web = service("web")
    unit_id = await created(fake, web)
    await fake.start(web)

    await fake.remove(unit_id, grace=GRACE)
    await fake.remove(unit_id, grace=GRACE)
    await fake.stop(unit_id, grace=GRACE)

    assert await unit_of(fake, unit_id) is None


async def test_create_adopts_the_same_fingerprint_and_refuses_another(fake: FakeDriver) -> None:
    unit_id = await created(fake, service("web"))
    await created(fake, service("web"))
    changed = service("web", cmd=("other",))

    with pytest.raises(Conflict):
        await fake.create(changed, await print_of(fake, changed))
    observed = await fake.observe(PROJECT)
    assert isinstance(observed, Observed)
    assert [u.id for u in observed.units] == [unit_id]


async def test_a_foreign_unit_is_never_observed_nor_touched(fake: FakeDriver) -> None:
    fake.add_foreign("demo-web")
    web = service("web")

    observed = await fake.observe(PROJECT)
    assert isinstance(observed, Observed)
    assert observed.units == ()
    for call in (
        fake.create(web, await print_of(fake, web)),
        fake.start(web),
        fake.stop("demo-web", grace=GRACE),
        fake.remove("demo-web", grace=GRACE),
        fake.annotate("demo-web", {"orch.x": "y"}),
    ):
        with pytest.raises(Conflict):
            await call
    assert fake.units["demo-web"].task is not None
    assert fake.units["demo-web"].labels == {}


async def test_check_returns_scripted_exit_codes_or_none_for_a_timeout(fake: FakeDriver) -> None:
    web = service("web")
    unit_id = await created(fake, web)
    await fake.start(web)
    fake.script_check("web", 1, None, 0)

    codes = [await fake.check(unit_id, "probe", limit=GRACE) for _ in range(4)]

    assert codes == [1, None, 0, 0]
    assert fake.mutations == [c for c in fake.calls if c.method in ("create", "start")]


async def test_annotations_round_trip_through_observe(fake: FakeDriver) -> None:
    unit_id = await created(fake, service("web"))

    await fake.annotate(unit_id, {"orch.restart-count": "2", "orch.x": "y"})
    await fake.annotate(unit_id, {"orch.x": None})
    unit = await unit_of(fake, unit_id)

    assert unit is not None
    assert unit.labels["orch.restart-count"] == "2"
    assert "orch.x" not in unit.labels


async def test_observe_of_a_project_sees_only_that_project(fake: FakeDriver) -> None:
    await created(fake, service("web"))
    fake.add_unit("web", project="other")

    mine = await fake.observe(PROJECT)
    every = await fake.observe(None)

    assert isinstance(mine, Observed)
    assert isinstance(every, Observed)
    assert [u.id for u in mine.units] == ["demo-web"]
    assert sorted(u.id for u in every.units) == ["demo-web", "other-web"]


async def test_an_unreachable_runtime_is_unreachable_never_empty_and_refuses_calls(
    fake: FakeDriver,
) -> None:
    web = service("web")
    unit_id = await created(fake, web)
    fake.set_reachable(False, reason="socket refused")

    observed = await fake.observe(PROJECT)

    assert isinstance(observed, Unreachable)
    assert observed.reason == "socket refused"
    for call in (fake.start(web), fake.remove(unit_id, grace=GRACE), fake.inputs(web, fetch=True)):
        with pytest.raises(RuntimeUnavailable):
            await call
    fake.set_reachable(True)
    assert isinstance(await fake.observe(PROJECT), Observed)


async def test_an_event_stream_resyncs_after_the_runtime_comes_back(fake: FakeDriver) -> None:
    events = fake.events()
    assert await anext(events) == Resynced()
    fake.set_reachable(False)
    fake.set_reachable(True)

    assert await anext(events) == Resynced()
    await events.aclose()  # type: ignore[attr-defined]


async def test_a_container_deleted_behind_our_back_is_reported(fake: FakeDriver) -> None:
    web = service("web")
    unit_id = await created(fake, web)
    events = fake.events()
    await anext(events)

    fake.delete_container("web")

    assert await anext(events) == UnitDeleted(unit_id=unit_id)
    assert await unit_of(fake, unit_id) is None
    await events.aclose()  # type: ignore[attr-defined]


async def test_inputs_without_fetch_report_a_missing_image_and_fetch_pulls_it(
    fake: FakeDriver,
) -> None:
    web = service("web")
    fake.forget_image(IMAGE)

    missing = await fake.inputs(web, fetch=False)
    pulled = await fake.inputs(web, fetch=True)
    present = await fake.inputs(web, fetch=False)

    assert missing == ImageMissing(reference=IMAGE)
    assert pulled == present == ServiceInputs(image_digest="sha256:a", env_files=[])


async def test_a_new_digest_is_seen_only_by_a_fetch(fake: FakeDriver) -> None:
    web = service("web")
    fake.publish_image(IMAGE, "sha256:b")

    local = await fake.inputs(web, fetch=False)
    fetched = await fake.inputs(web, fetch=True)

    assert isinstance(local, ServiceInputs)
    assert local.image_digest == "sha256:a"
    assert isinstance(fetched, ServiceInputs)
    assert fetched.image_digest == "sha256:b"


async def test_inputs_errors_name_the_service(fake: FakeDriver) -> None:
    with pytest.raises(ImageNotFound, match="service 'web'"):
        await fake.inputs(
            service("web", image=RegistryImage(reference="registry.test/none:1")), fetch=True
        )
    with pytest.raises(ServiceConfigError, match="service 'web'"):
        await fake.inputs(service("web", env_files=(Path("/nope.env"),)), fetch=True)


async def test_env_file_contents_are_gathered_as_secrets(fake: FakeDriver) -> None:
    path = Path("/project/app.env")
    fake.set_env_file(path, {"TOKEN": "s3cret"})

    got = await fake.inputs(service("web", env_files=(path,)), fetch=True)

    assert isinstance(got, ServiceInputs)
    assert [{k: v.reveal() for k, v in f.items()} for f in got.env_files] == [{"TOKEN": "s3cret"}]
    assert "s3cret" not in repr(got)


async def test_every_mutating_call_is_counted_with_its_arguments(fake: FakeDriver) -> None:
    web = service("web")
    unit_id = await created(fake, web)
    await fake.start(web)
    await fake.annotate(unit_id, {"orch.x": "1"})
    await fake.stop(unit_id, grace=GRACE)
    await fake.remove(unit_id, grace=GRACE)
    await fake.observe(PROJECT)

    assert [c.method for c in fake.mutations] == ["create", "start", "annotate", "stop", "remove"]
    assert fake.calls_of("annotate")[0].args == {"labels": {"orch.x": "1"}}
    assert fake.calls_of("remove")[0].args == {"grace": GRACE}
