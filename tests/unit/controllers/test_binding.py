"""Dependents follow what they require: a REQUIRES target started again restarts the
services started against its previous process, once it is ready again (BindsTo)."""

from __future__ import annotations

from datetime import timedelta

from reconciler.controllers.actions import Start, describe
from reconciler.controllers.binding import bound_to_label, parse_bound_to
from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.model import labels
from reconciler.model.desired import CommandCheck
from reconciler.model.status import Health, Outlook, ServiceState
from tests.support.desired import service, stack
from tests.support.planning import EPOCH, make_plan, running, status, unit

LATER = EPOCH + timedelta(minutes=5)


def test_the_label_names_the_start_of_each_requirement_that_has_one() -> None:
    web = service("web", requires=["db", "cache"])
    units = {u.id: u for u in (unit(service("db"), started_at=EPOCH),)}
    assert bound_to_label(web, "demo", units) == f"db={EPOCH.isoformat()}"
    assert parse_bound_to(f"db={EPOCH.isoformat()},bad,=x") == {"db": EPOCH.isoformat()}


def test_a_dependent_started_against_an_earlier_start_is_restarted() -> None:
    db, web = service("db"), service("web", requires=["db"])
    bound = {labels.BOUND_TO: f"db={EPOCH.isoformat()}"}

    result = make_plan(
        stack(db, web),
        unit(db, task=running(), started_at=LATER),
        unit(web, task=running(), extra=bound),
    )

    (action,) = result.actions
    assert isinstance(action, Start)
    assert action.stop_first
    assert describe(action) == "restart web: db was restarted"


def test_it_keeps_running_until_what_it_requires_is_ready_again() -> None:
    db = service("db", healthcheck=CommandCheck(command="ok"))
    web = service("web", requires=["db"])
    bound = {labels.BOUND_TO: f"db={EPOCH.isoformat()}"}

    result = make_plan(
        stack(db, web),
        unit(db, task=running(), started_at=LATER),
        unit(web, task=running(), extra=bound),
        knowledge={"db": ServiceKnowledge(health=Health.STARTING)},
    )

    assert result.actions == ()
    web_status = status(result, "web")
    assert (web_status.state, web_status.outlook) == (ServiceState.RUNNING, Outlook.PROGRESSING)
    assert web_status.reason == "db was restarted; restarting once ready"


def test_the_same_start_or_no_label_restarts_nothing() -> None:
    db, web = service("db"), service("web", requires=["db"])
    same = {labels.BOUND_TO: f"db={LATER.isoformat()}"}

    assert (
        make_plan(
            stack(db, web),
            unit(db, task=running(), started_at=LATER),
            unit(web, task=running(), extra=same),
        ).actions
        == ()
    )
    assert (
        make_plan(
            stack(db, web),
            unit(db, task=running(), started_at=LATER),
            unit(web, task=running()),
        ).actions
        == ()
    )
