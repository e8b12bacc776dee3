"""What `plan` shows: every action `apply` will take, in its order, later ones saying
what they wait for; and what can never happen without a change."""

from __future__ import annotations

from reconciler.controllers.actions import describe
from reconciler.controllers.plan import ServiceProblem
from reconciler.controllers.projection import Wait, project
from reconciler.model.desired import CommandCheck
from reconciler.model.observed import Observed
from tests.support.desired import PROJECT, service, stack
from tests.support.planning import EPOCH, fp, inputs_for, running, unit


def six_in_three_levels() -> tuple:  # type: ignore[type-arg]
    return (
        service("web", requires=["api"]),
        service("db", healthcheck=CommandCheck(command="pg_isready")),
        service("api", requires=["db", "migrate"]),
        service("migrate", oneshot=True, requires=["db"]),
        service("cache"),
        service("worker", requires=["api"], after=["cache"]),
    )


def test_a_fresh_stack_shows_every_create_in_the_order_apply_makes_them() -> None:
    desired = stack(*six_in_three_levels())

    projection = project(inputs_for(desired))

    assert [(s.step, describe(s.action)) for s in projection.changes] == [
        (0, "create db: not created yet"),
        (0, "create cache: not created yet"),
        (1, "create migrate: not created yet"),
        (2, "create api: not created yet"),
        (3, "create web: not created yet"),
        (3, "create worker: not created yet"),
    ]
    waits = {describe(s.action).split(":")[0]: s.waits_for for s in projection.changes}
    assert waits["create migrate"] == (Wait(service="db", condition="healthy"),)
    assert waits["create api"] == (
        Wait(service="db", condition="healthy"),
        Wait(service="migrate", condition="completed"),
    )
    assert waits["create worker"] == (
        Wait(service="api", condition="running"),
        Wait(service="cache", condition="started"),
    )
    assert projection.never == ()


def test_a_converged_stack_projects_nothing() -> None:
    web = service("web")
    desired = stack(web)
    projection = project(inputs_for(desired, unit(web, task=running(), print_=fp(web))))
    assert projection.steps == ()


def test_a_service_that_will_fail_and_what_waits_for_it_are_never_reached() -> None:
    desired = stack(service("db"), service("web", requires=["db"]))
    failing = {"db": ServiceProblem(message="service 'db': ENV_FILE /x: no such file")}

    projection = project(inputs_for(desired, gathered=failing))

    assert projection.changes == ()
    assert [(s.name, s.reason) for s in projection.never] == [
        ("db", "service 'db': ENV_FILE /x: no such file"),
        ("web", "waiting for db (failed)"),
    ]


def test_an_orphan_is_removed_first_and_a_changed_service_recreated() -> None:
    old, web = service("old"), service("web", env={"A": "1"})
    changed = service("web", env={"A": "2"})
    observed = (unit(old, task=running()), unit(web, task=running(), print_=fp(web)))

    projection = project(inputs_for(stack(changed), *observed))

    assert sorted(describe(s.action) for s in projection.changes) == [
        "recreate web: config changed (ENV A)",
        "remove old: not in the Orchfile",
    ]


def test_the_projection_never_mutates_the_observation_it_starts_from() -> None:
    desired = stack(*six_in_three_levels())
    inputs = inputs_for(desired)
    project(inputs)
    assert inputs.observed == Observed(
        namespace="orch", project=PROJECT, observed_at=EPOCH, units=()
    )
