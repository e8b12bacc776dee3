"""The `Driver` contract, held against both drivers with the same tests.

Each test runs once on the containerd driver (a private daemon, busybox imported from an
OCI archive) and once on the host driver (real host processes); the services are the same
shell scripts, as `CMD sh -c SCRIPT` or `RUN sh -c SCRIPT`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from reconciler.clock import SystemClock
from reconciler.controllers.driver import Driver
from reconciler.controllers.fingerprint import fingerprint
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.driver import ContainerdDriver
from reconciler.drivers.containerd.images.store import ImageService
from reconciler.drivers.containerd.network.cni import Cni
from reconciler.drivers.containerd.network.manager import ProjectNetworking
from reconciler.drivers.host.driver import HostDriver
from reconciler.errors import Conflict
from reconciler.model.desired import DesiredService
from reconciler.model.events import Resynced, RuntimeEvent, UnitExited
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ServiceInputs
from reconciler.model.observed import Observed, ObservedUnit, TaskPhase, Unreachable
from tests.support.containerd import NamespacedContainerd
from tests.support.host import PROJECT, HostStack
from tests.support.planning import FINGERPRINT_KEY
from tests.support.processes import is_running

pytestmark = pytest.mark.asyncio
GRACE = timedelta(seconds=1)


@dataclass(frozen=True, kw_only=True)
class Subject:
    """A driver under test and how to describe services to it."""

    driver: Driver
    stack: HostStack
    image: str | None
    unreachable: Callable[[], Driver]

    def service(self, script: str, *, name: str = "web", extra: str = "") -> DesiredService:
        # A RUN line with shell syntax runs in /bin/sh itself: no second shell in between.
        command = (
            f"RUN {script}" if self.image is None else f"FROM {self.image}\nCMD sh -c '{script}'"
        )
        return self.stack.service(f"SERVICE {name}\n{command}\n{extra}", name)

    async def fingerprint(self, service: DesiredService) -> Fingerprint:
        inputs = await self.driver.inputs(service, fetch=True)
        assert isinstance(inputs, ServiceInputs)
        return fingerprint(
            service,
            image_digest=inputs.image_digest,
            env_files=inputs.env_files,
            key=FINGERPRINT_KEY,
        )

    async def created(self, service: DesiredService) -> str:
        await self.driver.create(service, await self.fingerprint(service))
        return f"{PROJECT}-{service.name}"

    async def unit(self, unit_id: str) -> ObservedUnit | None:
        observed = await self.driver.observe(PROJECT)
        assert isinstance(observed, Observed)
        return observed.unit(unit_id)


def _host_subject(stack: HostStack) -> Subject:
    broken = stack.project_dir / "a-file"
    broken.write_text("")
    return Subject(
        driver=stack.driver(),
        stack=stack,
        image=None,
        unreachable=lambda: HostDriver(
            project=PROJECT,
            namespace=stack.namespace,
            state_dir=broken / "ns" / PROJECT,
            clock=SystemClock(),
        ),
    )


@pytest_asyncio.fixture(params=["containerd", "host"])
async def subject(
    request: pytest.FixtureRequest, tmp_path: Path, busybox_archive: Path
) -> AsyncIterator[Subject]:
    project = tmp_path / "project"
    project.mkdir()
    if request.param == "host":
        stack = HostStack(
            project_dir=project,
            state_root=tmp_path / "state",
            namespace=f"c-{secrets.token_hex(4)}",
        )
        made = _host_subject(stack)
        yield made
        await _remove_all(made)
        return
    containerd: NamespacedContainerd = request.getfixturevalue("containerd")
    stack = HostStack(
        project_dir=project, state_root=tmp_path / "state", namespace=containerd.namespace
    )
    async with ContainerdClient(address=containerd.address, namespace=containerd.namespace) as c:
        await c.wait_until_ready(timeout=10)
        clock = SystemClock()
        networking = ProjectNetworking(
            namespace=containerd.namespace,
            project=PROJECT,
            directory=tmp_path / "state" / "network",
            others=list,
            cni=Cni(clock=clock),
            clock=clock,
        )
        made = Subject(
            driver=ContainerdDriver(
                c, project=PROJECT, images=ImageService(c), clock=clock, networking=networking
            ),
            stack=stack,
            image=str(busybox_archive),
            unreachable=lambda: ContainerdDriver(
                ContainerdClient(address=f"unix://{tmp_path}/none.sock", namespace="x"),
                project=PROJECT,
                images=ImageService(c),
                clock=SystemClock(),
            ),
        )
        yield made
        await _remove_all(made)


async def _remove_all(subject: Subject) -> None:
    observed = await subject.driver.observe(PROJECT)
    assert isinstance(observed, Observed)
    for unit in observed.units:
        await subject.driver.remove(unit.id, grace=GRACE)
    await subject.driver.release_project()


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"{what}: not within {within}s"
        await asyncio.sleep(0.05)


async def test_a_created_unit_is_observed_with_its_labels_and_no_process(subject: Subject) -> None:
    service = subject.service("sleep 60")
    unit_id = await subject.created(service)

    unit = await subject.unit(unit_id)

    assert unit is not None
    assert (unit.mode, unit.project, unit.service) == (service.mode, PROJECT, "web")
    assert unit.config_hash == (await subject.fingerprint(service)).config_hash
    assert unit.task is None


async def test_a_started_unit_runs_a_live_process(subject: Subject) -> None:
    service = subject.service("sleep 60")
    unit_id = await subject.created(service)
    await subject.driver.start(service)

    unit = await subject.unit(unit_id)

    assert unit is not None
    assert unit.task is not None
    assert unit.task.phase is TaskPhase.RUNNING
    assert is_running(unit.task.pid)


async def test_an_exit_is_observed_with_its_code_and_reported_as_an_event(
    subject: Subject,
) -> None:
    service = subject.service("sleep 2; exit 3")
    unit_id = await subject.created(service)
    events = subject.driver.events()
    seen: list[RuntimeEvent] = []
    subscribed = asyncio.Event()

    async def first_exit() -> UnitExited:
        async for event in events:
            seen.append(event)
            if isinstance(event, Resynced):
                subscribed.set()
            if isinstance(event, UnitExited) and event.unit_id == unit_id:
                return event
        raise AssertionError("the event stream ended")

    waiting = asyncio.ensure_future(first_exit())
    # Every stream opens with Resynced; the process (which sleeps 2 s before exiting)
    # starts after it, so its exit comes after the subscription.
    await asyncio.wait_for(subscribed.wait(), 20)
    await subject.driver.start(service)
    event = await asyncio.wait_for(waiting, 20)
    await events.aclose()  # type: ignore[attr-defined]
    unit = await subject.unit(unit_id)

    assert event.exit_code == 3
    assert unit is not None
    assert unit.task is not None
    assert (unit.task.phase, unit.task.exit_code) == (TaskPhase.STOPPED, 3)


async def test_starting_again_replaces_a_stopped_process(subject: Subject) -> None:
    service = subject.service("exit 0")
    unit_id = await subject.created(service)
    await subject.driver.start(service)

    async def stopped() -> bool:
        unit = await subject.unit(unit_id)
        return unit is not None and unit.task is not None and unit.task.phase is TaskPhase.STOPPED

    await until(stopped, "first run exits")
    first = await subject.unit(unit_id)
    await subject.driver.start(service)
    await until(stopped, "second run exits")
    second = await subject.unit(unit_id)

    assert first is not None
    assert second is not None
    assert first.task is not None
    assert second.task is not None
    assert first.task.pid != second.task.pid


async def test_a_sigterm_ignoring_process_is_killed_after_the_grace_period(
    subject: Subject,
) -> None:
    service = subject.service('trap "" TERM; sleep 1000 & wait; sleep 1000')
    unit_id = await subject.created(service)
    await subject.driver.start(service)
    unit = await subject.unit(unit_id)
    assert unit is not None
    assert unit.task is not None

    started = time.monotonic()
    await subject.driver.stop(unit_id, grace=GRACE)

    assert time.monotonic() - started >= GRACE.total_seconds()
    assert not is_running(unit.task.pid)
    after = await subject.unit(unit_id)
    assert after is not None
    assert after.task is None


async def test_remove_leaves_nothing_and_can_be_repeated(subject: Subject) -> None:
    service = subject.service("sleep 1000")
    unit_id = await subject.created(service)
    await subject.driver.start(service)
    unit = await subject.unit(unit_id)
    assert unit is not None
    assert unit.task is not None

    await subject.driver.remove(unit_id, grace=GRACE)
    await subject.driver.remove(unit_id, grace=GRACE)
    await subject.driver.stop(unit_id, grace=GRACE)

    assert await subject.unit(unit_id) is None
    assert not is_running(unit.task.pid)


async def test_create_adopts_the_same_fingerprint_and_refuses_another(subject: Subject) -> None:
    service = subject.service("sleep 60")
    unit_id = await subject.created(service)
    await subject.created(service)
    changed = subject.service("sleep 61")

    with pytest.raises(Conflict):
        await subject.driver.create(changed, await subject.fingerprint(changed))
    assert [u.id for u in (await subject.driver.observe(PROJECT)).units] == [unit_id]  # type: ignore[union-attr]


async def test_check_returns_the_exit_code_or_none_on_timeout(subject: Subject) -> None:
    service = subject.service("sleep 60")
    unit_id = await subject.created(service)
    await subject.driver.start(service)

    assert await subject.driver.check(unit_id, "exit 0", limit=timedelta(seconds=10)) == 0
    assert await subject.driver.check(unit_id, "exit 4", limit=timedelta(seconds=10)) == 4
    started = time.monotonic()
    assert await subject.driver.check(unit_id, "sleep 30", limit=timedelta(seconds=1)) is None
    assert time.monotonic() - started < 10


async def test_annotations_round_trip_through_observe(subject: Subject) -> None:
    unit_id = await subject.created(subject.service("sleep 60"))

    await subject.driver.annotate(unit_id, {"orch.restart-count": "2", "orch.x": "y"})
    await subject.driver.annotate(unit_id, {"orch.x": None})
    unit = await subject.unit(unit_id)

    assert unit is not None
    assert unit.labels["orch.restart-count"] == "2"
    assert "orch.x" not in unit.labels


async def test_a_runtime_that_cannot_be_asked_is_unreachable_never_empty(
    subject: Subject,
) -> None:
    observed = await subject.unreachable().observe(PROJECT)

    assert isinstance(observed, Unreachable)
