"""The planner's drift kinds: what differs between desired and observed, and its cause."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reconciler.controllers.actions import Create, Recreate, Reload, Remove, Start, describe
from reconciler.controllers.fingerprint import fingerprint
from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.controllers.plan import ServiceProblem
from reconciler.model.desired import DesiredService, ServiceMode
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ImageMissing
from reconciler.model.network_mode import NetworkMode
from reconciler.model.observed import ObservedUnit
from reconciler.model.secret import Secret
from reconciler.model.status import DesiredState, Drift, ServiceState, Verb
from tests.support.desired import service, stack
from tests.support.planning import (
    FINGERPRINT_KEY,
    created,
    fp,
    make_plan,
    orphan,
    running,
    status,
    unit,
)


def test_a_service_without_a_unit_is_created() -> None:
    web = service("web")

    result = make_plan(stack(web))

    assert result.actions == (Create(service=web.name, cause="not created yet"),)
    assert status(result, "web").state is ServiceState.PENDING
    assert status(result, "web").planned is Verb.CREATE


def test_a_running_service_as_desired_needs_nothing_and_is_converged() -> None:
    web = service("web")

    result = make_plan(stack(web), unit(web, task=running(pid=42)))

    assert result.actions == ()
    assert (status(result, "web").state, status(result, "web").pid) == (ServiceState.RUNNING, 42)
    assert result.converged


def test_a_changed_env_value_recreates_and_names_the_variable_not_its_value() -> None:
    before = service("web", env={"A": "1", "B": "2"})
    after = service("web", env={"A": "secret-2", "B": "2"})

    result = make_plan(stack(after), unit(before, task=running()))

    (action,) = result.actions
    assert isinstance(action, Recreate)
    assert describe(action) == "recreate web: config changed (ENV A)"
    assert "secret-2" not in repr(result)
    assert status(result, "web").drift is Drift.CONFIG_CHANGED


def test_a_drifted_status_says_what_changed_without_repeating_the_drift() -> None:
    before = service("web", env={"A": "1"})
    after = service("web", env={"A": "2"})

    web = status(make_plan(stack(after), unit(before, task=running())), "web")

    assert (web.drift, web.reason, web.planned) == (
        Drift.CONFIG_CHANGED,
        "ENV A changed",
        Verb.RECREATE,
    )


def test_a_changed_command_is_named_too() -> None:
    before = service("web", cmd=("sleep", "1"))
    after = service("web", cmd=("sleep", "2"))

    result = make_plan(stack(after), unit(before, task=running()))

    assert [a.cause for a in result.actions] == ["config changed (cmd)"]


def test_switching_the_network_mode_recreates_naming_the_network() -> None:
    on_host = service("web", network=NetworkMode.HOST)
    on_bridge = service("web", network=NetworkMode.BRIDGE)

    to_bridge = make_plan(stack(on_bridge), unit(on_host, task=running()))
    to_host = make_plan(stack(on_host), unit(on_bridge, task=running()))

    assert [describe(a) for a in to_bridge.actions] == ["recreate web: config changed (network)"]
    assert [describe(a) for a in to_host.actions] == ["recreate web: config changed (network)"]


def test_a_host_network_container_hashes_as_before_the_network_mode_existed() -> None:
    on_host = fingerprint(
        service("web", network=NetworkMode.HOST),
        image_digest="sha256:1",
        env_files=(),
        key=FINGERPRINT_KEY,
    )
    on_bridge = fingerprint(
        service("web"), image_digest="sha256:1", env_files=(), key=FINGERPRINT_KEY
    )
    assert "network" not in on_host.parts
    assert on_bridge.parts.keys() - on_host.parts.keys() == {"network"}


def test_a_unit_without_the_parts_label_is_recreated_as_plainly_changed() -> None:
    before = service("web", cmd=("sleep", "1"))
    after = service("web", cmd=("sleep", "2"))
    old = unit(before, task=running(), extra={"orch.config-parts": None})

    result = make_plan(stack(after), old)

    assert [a.cause for a in result.actions] == ["config changed"]


def test_an_image_tag_resolving_to_another_digest_is_image_drift() -> None:
    web = service("web")
    old = unit(web, task=running(), print_=fp(web, digest="sha256:old"))

    result = make_plan(stack(web), old)

    assert [a.cause for a in result.actions] == ["image changed"]
    assert status(result, "web").drift is Drift.IMAGE_CHANGED
    assert status(result, "web").reason == "its reference resolves to a new digest"


def test_a_missing_image_for_a_new_service_is_created_as_any_new_one_is() -> None:
    web = service("web")

    result = make_plan(stack(web), gathered={"web": ImageMissing(reference="registry.test/app:1")})

    assert [type(a) for a in result.actions] == [Create]
    assert status(result, "web").planned is Verb.CREATE
    assert status(result, "web").reason == "not created yet"


def test_a_missing_image_for_an_existing_unit_is_reported_as_image_drift() -> None:
    web = service("web")

    result = make_plan(
        stack(web),
        unit(web, task=running()),
        gathered={"web": ImageMissing(reference="registry.test/app:1")},
    )

    assert status(result, "web").drift is Drift.IMAGE_CHANGED
    assert "registry.test/app:1 is not present" in (status(result, "web").reason or "")


def test_a_container_deleted_behind_our_back_is_recreated_as_container_missing() -> None:
    web = service("web")

    result = make_plan(stack(web), knowledge={"web": ServiceKnowledge(observed=True)})

    assert result.actions == (Create(service=web.name, cause="deleted outside the reconciler"),)
    assert status(result, "web").drift is Drift.CONTAINER_MISSING


def test_a_task_deleted_behind_our_back_is_started_again_as_task_missing() -> None:
    web = service("web")

    result = make_plan(stack(web), unit(web, task=None))

    assert result.actions == (Start(service=web.name, cause="task deleted outside the reconciler"),)
    assert status(result, "web").drift is Drift.TASK_MISSING


def test_a_task_created_but_never_started_is_started() -> None:
    web = service("web")

    result = make_plan(stack(web), unit(web, task=created()))

    assert [type(a) for a in result.actions] == [Start]


def test_inputs_that_cannot_be_gathered_fail_the_service_with_the_message() -> None:
    web = service("web")

    result = make_plan(
        stack(web), gathered={"web": ServiceProblem(message="ENV_FILE /x: no such file")}
    )

    assert result.actions == ()
    assert status(result, "web").state is ServiceState.FAILED
    assert status(result, "web").reason == "ENV_FILE /x: no such file"


def test_recreate_always_recreates_only_when_asked_on_an_apply_first_pass() -> None:
    web = service("web", recreate_always=True)
    observed = unit(web, task=running())

    later_pass = make_plan(stack(web), observed)
    first_pass = make_plan(stack(web), observed, recreate_always=True)

    assert later_pass.actions == ()
    assert [(type(a), a.cause) for a in first_pass.actions] == [(Recreate, "RECREATE always")]


def test_recreate_always_does_not_touch_services_without_it() -> None:
    web = service("web")

    result = make_plan(stack(web), unit(web, task=running()), recreate_always=True)

    assert result.actions == ()


def test_a_disabled_service_without_a_unit_is_left_alone() -> None:
    web = service("web", disabled=True)

    result = make_plan(stack(web))

    assert result.actions == ()
    assert status(result, "web").state is ServiceState.DISABLED
    assert status(result, "web").desired is DesiredState.DISABLED


def test_a_disabled_service_that_runs_is_removed() -> None:
    web = service("web", disabled=True)

    result = make_plan(stack(web), unit(web, task=running()))

    assert [(type(a), a.cause) for a in result.actions] == [(Remove, "DISABLED")]
    assert status(result, "web").planned is Verb.REMOVE


def test_units_of_the_project_no_service_accounts_for_are_removed_as_orphans() -> None:
    web = service("web")

    result = make_plan(stack(web), unit(web, task=running()), orphan("old"))

    assert result.actions == (
        Remove(unit_id="demo-old", mode=web.mode, cause="not in the Orchfile", service="old"),
    )


def test_units_of_other_projects_are_never_removed() -> None:
    web = service("web")

    result = make_plan(stack(web), unit(web, task=running()), orphan("old", project="other"))

    assert result.actions == ()


def test_a_unit_of_another_project_with_the_same_service_name_is_not_ours_to_use() -> None:
    web = service("web")

    result = make_plan(stack(web), unit(web, task=running(), project="other"))

    assert result.actions == (Create(service=web.name, cause="not created yet"),)


def _host(name: str, **fields: object) -> DesiredService:
    return service(
        name,
        mode=ServiceMode.HOST,
        image=None,
        command="serve",
        env_files=(Path("/project/app.env"),),
        **fields,
    )


def _host_unit(desired: DesiredService, env_file: dict[str, str]) -> ObservedUnit:
    made = fingerprint(
        desired,
        image_digest=None,
        env_files=[{k: Secret(v) for k, v in env_file.items()}],
        key=FINGERPRINT_KEY,
    )
    return replace(unit(desired, task=running(), print_=made), mode=ServiceMode.HOST)


def _with_env_file(desired: DesiredService, env_file: dict[str, str]) -> Fingerprint:
    return fingerprint(
        desired,
        image_digest=None,
        env_files=[{k: Secret(v) for k, v in env_file.items()}],
        key=FINGERPRINT_KEY,
    )


def test_a_host_service_with_reload_reloads_when_only_its_env_file_content_changed() -> None:
    web = _host("web", reload_command="kill -HUP $MAINPID")

    result = make_plan(
        stack(web),
        _host_unit(web, {"A": "1"}),
        gathered={"web": _with_env_file(web, {"A": "2"})},
    )

    (action,) = result.actions
    assert isinstance(action, Reload)
    assert describe(action) == "reload web: config changed (ENV_FILE /project/app.env); RELOAD"


def test_any_other_change_of_a_host_service_with_reload_recreates_it() -> None:
    before = _host("web", reload_command="kill -HUP $MAINPID")
    after = _host("web", reload_command="kill -HUP $MAINPID", env={"B": "1"})

    result = make_plan(
        stack(after),
        _host_unit(before, {"A": "1"}),
        gathered={"web": _with_env_file(after, {"A": "1"})},
    )

    assert [type(a) for a in result.actions] == [Recreate]


def test_without_reload_an_env_file_change_recreates() -> None:
    web = _host("web")

    result = make_plan(
        stack(web), _host_unit(web, {"A": "1"}), gathered={"web": _with_env_file(web, {"A": "2"})}
    )

    assert [type(a) for a in result.actions] == [Recreate]
