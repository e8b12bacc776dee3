"""`status -o json|yaml|table|wide` renders a StatusReport as docs/status.md promises."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from rich.console import Console
from ruamel.yaml import YAML

from reconciler.model.desired import ServiceMode
from reconciler.model.status import (
    DesiredState,
    Drift,
    Health,
    Leaks,
    Load,
    OrchfileStatus,
    ReconcilerInfo,
    RejectedSave,
    RuntimeReach,
    ServiceState,
    ServiceStatus,
    StatusReport,
)
from reconciler.report.status_view import (
    age,
    render_json,
    render_yaml,
    rfc3339,
    status_table,
    status_tree,
    unsettled_line,
)

NOW = datetime(2026, 11, 29, 17, 30, 0, tzinfo=UTC)

WEB = ServiceStatus(
    name="web",
    mode=ServiceMode.CONTAINER,
    desired=DesiredState.RUNNING,
    state=ServiceState.RUNNING,
    health=Health.HEALTHY,
    pid=4242,
    restarts=0,
    image="localhost:5000/web:1",
    since=datetime(2026, 11, 29, 17, 20, 0, tzinfo=UTC),
)
MIGRATE = ServiceStatus(
    name="migrate",
    mode=ServiceMode.CONTAINER,
    desired=DesiredState.COMPLETED,
    state=ServiceState.BACKOFF,
    restarts=3,
    exit_code=2,
    image="localhost:5000/migrate:1",
    drift=Drift.CONFIG_CHANGED,
    reason="exited 2, restarting in 4s",
    since=datetime(2026, 11, 29, 17, 29, 55, tzinfo=UTC),
)


def a_report(**overrides: object) -> StatusReport:
    fields: dict[str, object] = {
        "project": "demo",
        "namespace": "orch",
        "converged": True,
        "orchfile": OrchfileStatus(files=("Orchfile",), valid=True),
        "services": (WEB,),
    }
    fields.update(overrides)
    return StatusReport(**fields)  # type: ignore[arg-type]


def table_text(report: StatusReport, *, wide: bool = False, width: int = 200) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False, no_color=True)
    console.print(status_table(report, now=NOW, wide=wide))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


# JSON


def test_the_json_is_the_contract_s_example_then_the_live_view_s_keys() -> None:
    assert render_json(a_report()) == (
        "{\n"
        '  "project": "demo",\n'
        '  "namespace": "orch",\n'
        '  "converged": true,\n'
        '  "orchfile": {\n'
        '    "files": [\n'
        '      "Orchfile"\n'
        "    ],\n"
        '    "valid": true,\n'
        '    "error": null\n'
        "  },\n"
        '  "services": [\n'
        "    {\n"
        '      "name": "web",\n'
        '      "mode": "container",\n'
        '      "desired": "running",\n'
        '      "state": "running",\n'
        '      "health": "healthy",\n'
        '      "pid": 4242,\n'
        '      "restarts": 0,\n'
        '      "exit_code": null,\n'
        '      "image": "localhost:5000/web:1",\n'
        '      "drift": null,\n'
        '      "reason": null,\n'
        '      "since": "2026-11-29T17:20:00Z",\n'
        '      "outlook": "settled",\n'
        '      "health_detail": null,\n'
        '      "oom_killed": false,\n'
        '      "blocked_on": null,\n'
        '      "planned": null,\n'
        '      "activity": null,\n'
        '      "backoff_until": null,\n'
        '      "last_error": null\n'
        "    }\n"
        "  ],\n"
        '  "leaks": {\n'
        '    "tasks": [],\n'
        '    "containers": [],\n'
        '    "snapshots": [],\n'
        '    "leases": []\n'
        "  },\n"
        '  "runtime_error": null,\n'
        '  "reconciler": null\n'
        "}\n"
    )


def test_the_json_keys_come_in_product_md_s_order() -> None:
    tree = json.loads(render_json(a_report(services=(WEB, MIGRATE))))
    assert list(tree) == [
        "project",
        "namespace",
        "converged",
        "orchfile",
        "services",
        "leaks",
        "runtime_error",
        "reconciler",
    ]
    assert list(tree["orchfile"]) == ["files", "valid", "error"]
    assert list(tree["leaks"]) == ["tasks", "containers", "snapshots", "leases"]
    for service in tree["services"]:
        assert list(service) == [
            "name",
            "mode",
            "desired",
            "state",
            "health",
            "pid",
            "restarts",
            "exit_code",
            "image",
            "drift",
            "reason",
            "since",
            "outlook",
            "health_detail",
            "oom_killed",
            "blocked_on",
            "planned",
            "activity",
            "backoff_until",
            "last_error",
        ]


def test_enums_are_written_as_their_product_md_words() -> None:
    service = json.loads(render_json(a_report(services=(MIGRATE,))))["services"][0]
    assert service["state"] == "backoff"
    assert service["health"] == "none"
    assert service["drift"] == "config-changed"
    assert service["exit_code"] == 2
    assert service["reason"] == "exited 2, restarting in 4s"


@pytest.mark.parametrize("state", list(ServiceState))
def test_every_state_is_written_as_its_value(state: ServiceState) -> None:
    service = ServiceStatus(
        name="s", mode=ServiceMode.CONTAINER, desired=DesiredState.RUNNING, state=state
    )
    assert status_tree(a_report(services=(service,)))["services"][0]["state"] == state.value


@pytest.mark.parametrize("drift", list(Drift))
def test_every_drift_is_written_as_its_short_word(drift: Drift) -> None:
    service = ServiceStatus(
        name="s",
        mode=ServiceMode.CONTAINER,
        desired=DesiredState.RUNNING,
        state=ServiceState.RUNNING,
        drift=drift,
    )
    assert status_tree(a_report(services=(service,)))["services"][0]["drift"] == drift.value


def test_a_service_not_yet_observed_has_nulls_not_guesses() -> None:
    pending = ServiceStatus(
        name="db",
        mode=ServiceMode.CONTAINER,
        desired=DesiredState.RUNNING,
        state=ServiceState.PENDING,
    )
    service = status_tree(a_report(services=(pending,)))["services"][0]
    assert service["pid"] is None
    assert service["exit_code"] is None
    assert service["image"] is None
    assert service["since"] is None
    assert service["restarts"] == 0


def test_since_is_rfc3339_in_utc_with_z_to_the_second() -> None:
    paris = timezone(timedelta(hours=1))
    assert rfc3339(datetime(2026, 11, 29, 18, 20, 0, 999_999, tzinfo=paris)) == (
        "2026-11-29T17:20:00Z"
    )


def test_a_since_without_a_time_zone_is_refused_when_the_status_is_built() -> None:
    with pytest.raises(ValueError, match="time zone"):
        ServiceStatus(
            name="web",
            mode=ServiceMode.CONTAINER,
            desired=DesiredState.RUNNING,
            state=ServiceState.RUNNING,
            since=datetime(2026, 11, 29, 17, 20),
        )


def test_an_invalid_orchfile_and_leaks_appear_in_the_json() -> None:
    report = a_report(
        converged=False,
        orchfile=OrchfileStatus(
            files=("Orchfile", "dev.orch"), valid=False, error="Orchfile:3: unknown directive"
        ),
        leaks=Leaks(tasks=("demo-old",), leases=("reconciler-1",)),
    )
    tree = json.loads(render_json(report))
    assert tree["converged"] is False
    assert tree["orchfile"] == {
        "files": ["Orchfile", "dev.orch"],
        "valid": False,
        "error": "Orchfile:3: unknown directive",
    }
    assert tree["leaks"] == {
        "tasks": ["demo-old"],
        "containers": [],
        "snapshots": [],
        "leases": ["reconciler-1"],
    }


def test_the_json_of_a_project_without_services_has_an_empty_list() -> None:
    assert json.loads(render_json(a_report(services=())))["services"] == []


def test_non_ascii_text_is_written_as_is() -> None:
    report = a_report(orchfile=OrchfileStatus(files=("Orchfile",), valid=False, error="café"))
    assert '"error": "café"' in render_json(report)


# YAML


def test_the_yaml_is_the_same_tree_as_the_json() -> None:
    report = a_report(
        services=(WEB, MIGRATE),
        leaks=Leaks(containers=("demo-x",)),
        orchfile=OrchfileStatus(files=("Orchfile",), valid=False, error="a: b # not a comment"),
    )
    loaded = YAML(typ="safe", pure=True).load(render_yaml(report))
    assert loaded == json.loads(render_json(report))


def test_the_yaml_keeps_product_md_s_key_order() -> None:
    text = render_yaml(a_report())
    top_level = [line.split(":")[0] for line in text.splitlines() if line[:1].isalpha()]
    assert top_level[:6] == ["project", "namespace", "converged", "orchfile", "services", "leaks"]


def test_the_yaml_writes_null_as_null_and_since_as_a_string() -> None:
    text = render_yaml(a_report())
    assert "    exit_code: null\n" in text
    assert "    since: '2026-11-29T17:20:00Z'\n" in text
    assert "  tasks: []\n" in text


# Table


def test_age_is_the_largest_whole_unit_like_kubectl() -> None:
    assert age(NOW - timedelta(seconds=5), NOW) == "5s"
    assert age(NOW - timedelta(seconds=59), NOW) == "59s"
    assert age(NOW - timedelta(minutes=3, seconds=59), NOW) == "3m"
    assert age(NOW - timedelta(hours=2, minutes=59), NOW) == "2h"
    assert age(NOW - timedelta(days=4, hours=23), NOW) == "4d"


def test_an_age_in_the_future_is_zero_and_an_unknown_age_is_a_dash() -> None:
    assert age(NOW + timedelta(seconds=30), NOW) == "0s"
    assert age(None, NOW) == "-"


def test_the_table_header_names_project_namespace_and_convergence() -> None:
    first = table_text(a_report()).splitlines()[0]
    assert first.split() == ["project", "demo", "namespace", "orch", "converged"]
    first = table_text(a_report(converged=False)).splitlines()[0]
    assert first.split()[-2:] == ["not", "converged"]


def test_the_table_has_the_status_columns_in_order() -> None:
    heading = table_text(a_report()).splitlines()[2].split()
    assert heading == [
        "SERVICE",
        "MODE",
        "DESIRED",
        "STATE",
        "HEALTH",
        "RESTARTS",
        "AGE",
        "DRIFT/REASON",
    ]


def test_wide_adds_pid_exit_image_and_the_last_check_before_drift_and_reason() -> None:
    heading = table_text(a_report(), wide=True).splitlines()[2].split()
    assert heading[-6:] == ["PID", "EXIT", "IMAGE", "LAST", "CHECK", "DRIFT/REASON"]


def test_each_service_is_one_row_with_its_values() -> None:
    lines = table_text(a_report(services=(WEB, MIGRATE))).splitlines()
    assert lines[3].split() == ["web", "container", "running", "running", "healthy", "0", "10m"]
    assert lines[4].split() == [
        "migrate",
        "container",
        "completed",
        "backoff",
        "-",
        "3",
        "5s",
        "config-changed:",
        "exited",
        "2,",
        "restarting",
        "in",
        "4s",
    ]


def test_wide_rows_show_pid_exit_code_and_image() -> None:
    lines = table_text(a_report(services=(WEB, MIGRATE)), wide=True).splitlines()
    assert lines[3].split()[-4:] == ["4242", "-", "localhost:5000/web:1", "-"]
    assert lines[4].split()[7:10] == ["-", "2", "localhost:5000/migrate:1"]


def test_a_reason_without_drift_is_shown_alone() -> None:
    blocked = ServiceStatus(
        name="api",
        mode=ServiceMode.CONTAINER,
        desired=DesiredState.RUNNING,
        state=ServiceState.BLOCKED,
        reason="waiting for db (unhealthy)",
    )
    row = table_text(a_report(services=(blocked,))).splitlines()[3]
    assert row.split()[-4:] == ["waiting", "for", "db", "(unhealthy)"]


def test_text_that_looks_like_rich_markup_is_printed_literally() -> None:
    odd = ServiceStatus(
        name="api",
        mode=ServiceMode.CONTAINER,
        desired=DesiredState.RUNNING,
        state=ServiceState.FAILED,
        reason="[red]exit[/red] :smile:",
    )
    assert "[red]exit[/red] :smile:" in table_text(a_report(services=(odd,)))


def test_an_invalid_orchfile_is_shown_with_its_error() -> None:
    report = a_report(
        converged=False,
        orchfile=OrchfileStatus(
            files=("Orchfile", "dev.orch"), valid=False, error="Orchfile:3: unknown directive"
        ),
    )
    assert "Orchfile invalid (Orchfile, dev.orch): Orchfile:3: unknown directive" in (
        table_text(report)
    )


def test_a_valid_orchfile_and_no_leaks_add_no_lines() -> None:
    lines = table_text(a_report()).splitlines()
    assert len(lines) == 4
    assert not any("leaked" in line or "invalid" in line for line in lines)


def test_leaks_are_listed_by_class() -> None:
    report = a_report(leaks=Leaks(tasks=("demo-a", "demo-b"), snapshots=("demo-c",)))
    lines = table_text(report).splitlines()
    assert lines[-2:] == ["leaked tasks: demo-a, demo-b", "leaked snapshots: demo-c"]


def test_a_project_without_services_says_so() -> None:
    assert table_text(a_report(services=())).splitlines()[2] == "no services"


def test_a_runtime_error_is_shown_under_the_header() -> None:
    report = a_report(converged=False, runtime_error="containerd unreachable at /run/x.sock")
    assert table_text(report).splitlines()[2] == "runtime: containerd unreachable at /run/x.sock"


def test_the_table_has_no_escape_codes_when_not_writing_to_a_terminal() -> None:
    assert "\x1b[" not in table_text(a_report(services=(WEB, MIGRATE)), wide=True)


def test_the_table_is_coloured_on_a_terminal() -> None:
    console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system="standard")
    console.print(status_table(a_report(), now=NOW))
    assert "\x1b[32mrunning" in console.file.getvalue()  # type: ignore[attr-defined]


def test_no_color_keeps_colour_off_even_on_a_terminal() -> None:
    console = Console(file=io.StringIO(), width=200, force_terminal=True, no_color=True)
    console.print(status_table(a_report(), now=NOW))
    assert "\x1b[32m" not in console.file.getvalue()  # type: ignore[attr-defined]


def test_at_80_columns_names_and_states_stay_whole_and_the_reason_folds() -> None:
    lines = table_text(a_report(services=(WEB, MIGRATE)), width=80).splitlines()
    assert lines[4].split()[:7] == ["migrate", "container", "completed", "backoff", "-", "3", "5s"]
    column = lines[2].index("DRIFT/REASON")
    assert " ".join(line[column:].strip() for line in lines[4:]) == (
        "config-changed: exited 2, restarting in 4s"
    )
    assert all(len(line) <= 80 for line in lines)


# The live view of a `run`


def test_the_live_view_adds_the_reconcilers_own_state_to_the_json() -> None:
    info = ReconcilerInfo(
        pid=77,
        started_at=NOW - timedelta(minutes=5),
        files=("/srv/Orchfile",),
        last_load=Load(at=NOW, digest="abc"),
        rejected_save=RejectedSave(at=NOW, error="Orchfile:3: bad"),
        passes=12,
        last_pass_at=NOW,
        last_pass_duration=timedelta(milliseconds=8),
        runtimes=(RuntimeReach(mode=ServiceMode.CONTAINER, reachable=True),),
    )
    tree = json.loads(render_json(a_report(reconciler=info)))["reconciler"]
    assert tree == {
        "pid": 77,
        "started_at": "2026-11-29T17:25:00Z",
        "files": ["/srv/Orchfile"],
        "last_load": {"at": "2026-11-29T17:30:00Z", "digest": "abc"},
        "rejected_save": {"at": "2026-11-29T17:30:00Z", "error": "Orchfile:3: bad", "held": False},
        "passes": 12,
        "last_pass_at": "2026-11-29T17:30:00Z",
        "last_pass_seconds": 0.008,
        "runtimes": [{"mode": "container", "reachable": True, "since": None, "reason": None}],
    }
    line = table_text(a_report(reconciler=info)).splitlines()[1]
    assert line == "reconciler run: pid 77, up 5m, 12 passes, last 8 ms"


def test_without_run_the_table_says_nothing_reconciles() -> None:
    assert table_text(a_report()).splitlines()[1] == "no `reconciler run` holds this project"


def test_an_unsettled_service_is_one_line_without_repeating_itself() -> None:
    unhealthy = replace(
        WEB, health=Health.UNHEALTHY, reason="unhealthy: HTTP 404 from http://127.0.0.1/"
    )
    assert unsettled_line(unhealthy) == "web: unhealthy (HTTP 404 from http://127.0.0.1/)"
    failed = replace(WEB, state=ServiceState.FAILED, reason="service 'web': image x not found")
    assert unsettled_line(failed) == "web: failed (image x not found)"
