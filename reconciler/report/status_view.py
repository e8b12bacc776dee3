"""`status -o json|yaml|table|wide`: a `StatusReport` rendered for scripts and for people.

The JSON and YAML shape is the status JSON of docs/status.md: the contract's keys first,
in their order, then what only the live view of a `run` can say (outlook, the last health
check, work in flight, backoff, the reconciler itself). It is a promise to scripts, so
`status_tree` is the single place that builds it. Times are RFC 3339 in UTC with `Z`, to
the second; durations are seconds. The table is for people: it is a rich
renderable, so the caller decides colour (a TTY or not) and width, and `--watch` can
redraw it; `now` is injected so ages are testable.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from reconciler.model.status import (
    Activity,
    Blocker,
    Health,
    Leaks,
    ReconcilerInfo,
    ServiceState,
    ServiceStatus,
    StatusReport,
)

if TYPE_CHECKING:
    from ruamel.yaml import YAML

ABSENT: Final = "-"

_STATE_STYLES: Final = {
    ServiceState.RUNNING: "green",
    ServiceState.COMPLETED: "green",
    ServiceState.PENDING: "yellow",
    ServiceState.BLOCKED: "yellow",
    ServiceState.PULLING: "yellow",
    ServiceState.CREATING: "yellow",
    ServiceState.STARTING: "yellow",
    ServiceState.STOPPING: "yellow",
    ServiceState.EXITED: "red",
    ServiceState.BACKOFF: "red",
    ServiceState.FAILED: "bold red",
    ServiceState.DISABLED: "dim",
}
_HEALTH_STYLES: Final = {
    Health.HEALTHY: "green",
    Health.UNHEALTHY: "red",
    Health.STARTING: "yellow",
    Health.NONE: "dim",
}


def rfc3339(moment: datetime) -> str:
    """`2026-11-29T17:20:00Z`: UTC, whole seconds."""
    utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return f"{utc.isoformat()}Z"


def status_tree(report: StatusReport) -> dict[str, Any]:
    """The status JSON of docs/status.md as plain dicts and lists, keys in its order."""
    return {
        "project": report.project,
        "namespace": report.namespace,
        "converged": report.converged,
        "orchfile": {
            "files": list(report.orchfile.files),
            "valid": report.orchfile.valid,
            "error": report.orchfile.error,
        },
        "services": [_service_tree(service) for service in report.services],
        "leaks": _leaks_tree(report.leaks),
        "runtime_error": report.runtime_error,
        "reconciler": _reconciler_tree(report.reconciler),
    }


def _service_tree(service: ServiceStatus) -> dict[str, Any]:
    return {
        "name": service.name,
        "mode": service.mode.value,
        "desired": service.desired.value,
        "state": service.state.value,
        "health": service.health.value,
        "pid": service.pid,
        "restarts": service.restarts,
        "exit_code": service.exit_code,
        "image": service.image,
        "drift": None if service.drift is None else service.drift.value,
        "reason": service.reason,
        "since": _time(service.since),
        "outlook": service.outlook.value,
        "health_detail": service.health_detail,
        "oom_killed": service.oom_killed,
        "blocked_on": _blocker_tree(service.blocker),
        "planned": None if service.planned is None else service.planned.value,
        "activity": _activity_tree(service.activity),
        "backoff_until": _time(service.backoff_until),
        "last_error": service.last_error,
    }


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


def _blocker_tree(blocker: Blocker | None) -> dict[str, Any] | None:
    if blocker is None:
        return None
    return {
        "service": blocker.on,
        "relation": blocker.relation.value,
        "state": None if blocker.state is None else blocker.state.value,
        "health": blocker.health.value,
        "missing": blocker.missing,
    }


def _activity_tree(activity: Activity | None) -> dict[str, Any] | None:
    if activity is None:
        return None
    return {
        "action": activity.verb.value,
        "step": activity.step.value,
        "cause": activity.cause,
        "since": rfc3339(activity.since),
    }


def _reconciler_tree(info: ReconcilerInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    rejected = info.rejected_save
    return {
        "pid": info.pid,
        "started_at": rfc3339(info.started_at),
        "files": list(info.files),
        "last_load": None
        if info.last_load is None
        else {"at": rfc3339(info.last_load.at), "digest": info.last_load.digest},
        "rejected_save": None
        if rejected is None
        else {"at": rfc3339(rejected.at), "error": rejected.error, "held": rejected.held},
        "passes": info.passes,
        "last_pass_at": _time(info.last_pass_at),
        "last_pass_seconds": None
        if info.last_pass_duration is None
        else round(info.last_pass_duration.total_seconds(), 3),
        "runtimes": [
            {
                "mode": reach.mode.value,
                "reachable": reach.reachable,
                "since": _time(reach.since),
                "reason": reach.reason,
            }
            for reach in info.runtimes
        ],
    }


def _leaks_tree(leaks: Leaks) -> dict[str, list[str]]:
    return {
        "tasks": list(leaks.tasks),
        "containers": list(leaks.containers),
        "snapshots": list(leaks.snapshots),
        "leases": list(leaks.leases),
    }


def render_json(report: StatusReport) -> str:
    return json.dumps(status_tree(report), indent=2, ensure_ascii=False) + "\n"


def render_yaml(report: StatusReport) -> str:
    stream = io.StringIO()
    _yaml().dump(status_tree(report), stream)
    return stream.getvalue()


def _yaml() -> YAML:
    from ruamel.yaml import YAML  # only `-o yaml` pays for it (about 20 ms of imports)

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _represent_null)
    return yaml


def _represent_null(representer: Any, _data: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def age(since: datetime | None, now: datetime) -> str:
    """kubectl-style age: `5s`, `3m`, `2h`, `4d`, truncated; a future `since` is `0s`."""
    if since is None:
        return ABSENT
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def status_table(report: StatusReport, *, now: datetime, wide: bool = False) -> RenderableType:
    """The header line, the services table, then the Orchfile error and leaks if any.

    Names, states and numbers are never wrapped; image and drift/reason fold to fit the
    console's width. Writing to a pipe, the caller should give the console a generous
    width, as kubectl never wraps its rows.
    """
    parts: list[RenderableType] = [_header(report)]
    parts.append(_reconciler_line(report.reconciler, now))
    if report.runtime_error is not None:
        parts.append(Text(f"runtime: {report.runtime_error}", style="red"))
    if not report.orchfile.valid:
        files = ", ".join(report.orchfile.files)
        error = report.orchfile.error or "invalid"
        parts.append(Text(f"Orchfile invalid ({files}): {error}", style="red"))
    elif report.orchfile.error is not None:
        parts.append(Text(report.orchfile.error, style="yellow"))
    if report.services:
        parts.append(_services_table(report.services, now=now, wide=wide))
    else:
        parts.append(Text("no services", style="dim"))
    parts.extend(_leak_lines(report.leaks))
    return Group(*parts)


def _reconciler_line(info: ReconcilerInfo | None, now: datetime) -> Text:
    if info is None:
        return Text("no `reconciler run` holds this project", style="dim")
    line = Text(style="dim")
    line.append(f"reconciler run: pid {info.pid}, up {age(info.started_at, now)}, ")
    line.append(f"{info.passes} passes")
    if info.last_pass_duration is not None:
        line.append(f", last {info.last_pass_duration.total_seconds() * 1000:.0f} ms")
    for reach in info.runtimes:
        if not reach.reachable:
            line.append(f"; {reach.mode.value} runtime unreachable since ")
            line.append(_time(reach.since) or "?", style="red")
    return line


def _header(report: StatusReport) -> Text:
    header = Text()
    header.append("project ", style="dim")
    header.append(report.project, style="bold")
    header.append("  namespace ", style="dim")
    header.append(report.namespace, style="bold")
    header.append("  ")
    if report.converged:
        header.append("converged", style="green")
    else:
        header.append("not converged", style="bold red")
    return header


def _services_table(services: tuple[ServiceStatus, ...], *, now: datetime, wide: bool) -> Table:
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for heading in ("SERVICE", "MODE", "DESIRED", "STATE", "HEALTH"):
        table.add_column(heading, no_wrap=True)
    table.add_column("RESTARTS", justify="right", no_wrap=True)
    table.add_column("AGE", justify="right", no_wrap=True)
    if wide:
        table.add_column("PID", justify="right", no_wrap=True)
        table.add_column("EXIT", justify="right", no_wrap=True)
        table.add_column("IMAGE", overflow="fold", min_width=10)
        table.add_column("LAST CHECK", overflow="fold", min_width=10)
    table.add_column("DRIFT/REASON", overflow="fold", min_width=12)
    for service in services:
        cells = [
            Text(service.name, style="bold"),
            Text(service.mode.value),
            Text(service.desired.value),
            Text(service.state.value, style=_STATE_STYLES[service.state]),
            _health(service.health),
            Text(str(service.restarts), style="yellow" if service.restarts else ""),
            Text(age(service.since, now)),
        ]
        if wide:
            cells += [
                Text(_optional(service.pid)),
                Text(_optional(service.exit_code), style="red" if service.exit_code else ""),
                Text(service.image or ABSENT),
                Text(service.health_detail or ABSENT),
            ]
        cells.append(_drift_and_reason(service))
        table.add_row(*cells)
    return table


def _health(health: Health) -> Text:
    label = ABSENT if health is Health.NONE else health.value
    return Text(label, style=_HEALTH_STYLES[health])


def _optional(value: int | None) -> str:
    return ABSENT if value is None else str(value)


def unsettled_line(status: ServiceStatus) -> str:
    """One line for a service that is not where it should be:
    `web: unhealthy (HTTP 404 from http://127.0.0.1:8080/)`."""
    condition = status.state.value
    if status.state is ServiceState.RUNNING and status.health not in (Health.HEALTHY, Health.NONE):
        condition = status.health.value
    reason = status.reason
    if reason is not None:
        reason = reason.removeprefix(f"{condition}: ").removeprefix(f"service '{status.name}': ")
    return f"{status.name}: {condition}" + (f" ({reason})" if reason else "")


def _drift_and_reason(service: ServiceStatus) -> Text:
    text = Text()
    if service.drift is not None:
        text.append(service.drift.value, style="yellow")
    if service.reason is not None:
        text.append(": " if service.drift is not None else "")
        text.append(service.reason)
    return text


def _leak_lines(leaks: Leaks) -> list[Text]:
    return [
        Text(f"leaked {name}: {', '.join(ids)}", style="red")
        for name, ids in _leaks_tree(leaks).items()
        if ids
    ]
