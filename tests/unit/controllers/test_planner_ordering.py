"""REQUIRES and AFTER: who waits for whom, and the reason a blocked service shows."""

from __future__ import annotations

from datetime import timedelta

from reconciler.clock import VIRTUAL_EPOCH as EPOCH
from reconciler.controllers.actions import Create
from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.model import labels
from reconciler.model.desired import CommandCheck, Restart
from reconciler.model.status import Health, ServiceState
from tests.support.desired import restart, service, stack
from tests.support.planning import exited, make_plan, running, status, unit

CHECK = CommandCheck(command="true")


def created_services(result: object) -> list[str]:
    return [a.service for a in result.actions if isinstance(a, Create)]  # type: ignore[attr-defined]


def test_a_fresh_stack_creates_what_has_no_requirements_and_blocks_the_rest() -> None:
    db = service("db")
    web = service("web", requires=["db"])

    result = make_plan(stack(db, web))

    assert created_services(result) == ["db"]
    assert status(result, "web").state is ServiceState.BLOCKED
    assert status(result, "web").reason == "waiting for db (pending)"


def test_requires_waits_until_the_target_with_a_healthcheck_is_healthy() -> None:
    db = service("db", healthcheck=CHECK)
    web = service("web", requires=["db"])
    observed = unit(db, task=running())

    starting = make_plan(
        stack(db, web), observed, knowledge={"db": ServiceKnowledge(health=Health.STARTING)}
    )
    healthy = make_plan(
        stack(db, web), observed, knowledge={"db": ServiceKnowledge(health=Health.HEALTHY)}
    )

    assert status(starting, "web").reason == "waiting for db (starting)"
    assert created_services(starting) == []
    assert created_services(healthy) == ["web"]


def test_requires_on_an_unhealthy_target_blocks_with_that_reason() -> None:
    db = service("db", healthcheck=CHECK)
    web = service("web", requires=["db"])

    result = make_plan(
        stack(db, web),
        unit(db, task=running()),
        knowledge={"db": ServiceKnowledge(health=Health.UNHEALTHY)},
    )

    assert status(result, "web").reason == "waiting for db (unhealthy)"


def test_requires_on_a_oneshot_waits_for_it_to_complete() -> None:
    migrate = service("migrate", oneshot=True)
    web = service("web", requires=["migrate"])

    while_running = make_plan(stack(migrate, web), unit(migrate, task=running()))
    done = make_plan(stack(migrate, web), unit(migrate, task=exited(0)), now=EPOCH)

    assert status(while_running, "web").reason == "waiting for migrate (running)"
    assert created_services(while_running) == []
    assert created_services(done) == ["web"]


def test_a_service_whose_requirement_failed_stays_blocked_and_says_why() -> None:
    migrate = service("migrate", oneshot=True, restart=restart(Restart.NO))
    web = service("web", requires=["migrate"])
    observed = unit(migrate, task=exited(1))

    result = make_plan(stack(migrate, web), observed, now=EPOCH + timedelta(seconds=5))

    assert status(result, "web").state is ServiceState.BLOCKED
    assert status(result, "web").reason == "waiting for migrate (exited)"
    assert created_services(result) == []


def test_requires_on_a_start_limited_target_shows_failed() -> None:
    db = service("db", restart=restart(Restart.ALWAYS))
    web = service("web", requires=["db"])
    observed = unit(db, task=exited(1), extra={labels.FAILED: ""})
    failed = unit(db, task=exited(1), extra={labels.FAILED: observed.config_hash})

    result = make_plan(stack(db, web), failed, now=EPOCH)

    assert status(result, "web").reason == "waiting for db (failed)"


def test_after_waits_only_for_the_target_to_have_started() -> None:
    db = service("db", healthcheck=CHECK)
    web = service("web", after=["db"])

    before_db = make_plan(stack(db, web))
    db_unhealthy = make_plan(
        stack(db, web),
        unit(db, task=running()),
        knowledge={"db": ServiceKnowledge(health=Health.STARTING)},
    )

    assert status(before_db, "web").reason == "after db (pending)"
    assert created_services(db_unhealthy) == ["web"]


def test_after_a_disabled_service_does_not_wait() -> None:
    db = service("db", disabled=True)
    web = service("web", after=["db"])

    assert created_services(make_plan(stack(db, web))) == ["web"]


def test_requires_a_disabled_service_blocks() -> None:
    db = service("db", disabled=True)
    web = service("web", requires=["db"])

    result = make_plan(stack(db, web))

    assert status(result, "web").reason == "waiting for db (disabled)"


def test_a_requirement_written_later_in_the_file_is_still_seen_as_ready() -> None:
    web = service("web", requires=["migrate"])
    migrate = service("migrate", oneshot=True)
    done = unit(migrate, task=exited(0))

    first = make_plan(stack(web, migrate), done, now=EPOCH)
    recorded = unit(migrate, task=exited(0), extra={labels.COMPLETED: done.config_hash})
    later = make_plan(stack(web, migrate), recorded, now=EPOCH)

    assert created_services(later) == ["web"]
    assert status(first, "migrate").state is ServiceState.COMPLETED


def test_a_healthchecked_requirement_later_in_the_file_unblocks_once_healthy() -> None:
    web = service("web", requires=["db"])
    db = service("db", healthcheck=CHECK)

    result = make_plan(
        stack(web, db),
        unit(db, task=running()),
        knowledge={"db": ServiceKnowledge(health=Health.HEALTHY)},
    )

    assert created_services(result) == ["web"]


def test_statuses_stay_in_file_order_whatever_the_planning_order() -> None:
    web = service("web", requires=["db"])
    db = service("db")

    result = make_plan(stack(web, db))

    assert [s.name for s in result.statuses] == ["web", "db"]
    assert status(result, "web").reason == "waiting for db (pending)"
