"""`run`'s metrics without a socket: journal entries and finished passes in, the text a
scrape would get out, read back with prometheus-client's own parser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from reconciler.app.engine import PassResult
from reconciler.app.metrics.address import ListenAddress, parse_listen_address
from reconciler.app.metrics.collector import RunMetrics
from reconciler.app.runner import PassDone
from reconciler.clock import VIRTUAL_EPOCH
from reconciler.controllers.plan import Plan
from reconciler.errors import UsageError
from reconciler.model.desired import ServiceMode
from reconciler.model.journal import (
    ActionFinished,
    ActionStarted,
    Entry,
    ExitOutcome,
    HealthChanged,
    TaskExited,
)
from reconciler.model.observed import Observed, RuntimeFacts, TaskFact, TaskPhase
from reconciler.model.status import (
    DesiredState,
    Drift,
    Health,
    Outlook,
    RejectedSave,
    RuntimeReach,
    ServiceState,
    ServiceStatus,
    Verb,
)
from tests.support.desired import service, stack

AT = VIRTUAL_EPOCH
SECOND = timedelta(seconds=1)
DESIRED = stack(service("web"), service("worker"), service("off", disabled=True))


def samples(metrics: RunMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by name and sorted labels."""
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(metrics: RunMetrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


def finished(verb: Verb, *, error: str | None = None, retrying: bool = False) -> ActionFinished:
    return ActionFinished(
        at=AT,
        service="web",
        verb=verb,
        cause="c",
        duration=SECOND,
        error=error,
        retrying=retrying,
    )


def exited(service: str, code: int, *, oom: bool = False) -> TaskExited:
    return TaskExited(
        at=AT, service=service, exit_code=code, oom_killed=oom, outcome=ExitOutcome.RESTART
    )


def status(
    name: str, state: ServiceState, *, drift: Drift | None = None, settled: bool = True
) -> ServiceStatus:
    return ServiceStatus(
        name=name,
        mode=ServiceMode.CONTAINER,
        desired=DesiredState.RUNNING,
        state=state,
        drift=drift,
        outlook=Outlook.SETTLED if settled else Outlook.PROGRESSING,
    )


def a_pass(
    *statuses: ServiceStatus,
    seconds: float = 0.02,
    unreachable: bool = False,
    runtime: RuntimeFacts | None = None,
    rejected: RejectedSave | None = None,
) -> PassDone:
    observed = Observed(
        namespace="orch",
        project="demo",
        observed_at=AT,
        unreachable={ServiceMode.CONTAINER: "refused"} if unreachable else {},
        runtime=runtime,
    )
    return PassDone(
        result=PassResult(
            observed=observed, plan=Plan(actions=(), statuses=statuses, requeue_at={})
        ),
        at=AT + SECOND,
        duration=timedelta(seconds=seconds),
        desired=DESIRED,
        rejected=rejected,
        runtimes=(
            RuntimeReach(mode=ServiceMode.CONTAINER, reachable=not unreachable),
            RuntimeReach(mode=ServiceMode.HOST, reachable=True),
        ),
    )


def fed(*entries: Entry) -> RunMetrics:
    metrics = RunMetrics()
    for entry in entries:
        metrics.record(entry)
    return metrics


def test_actions_are_counted_by_verb_and_outcome() -> None:
    metrics = fed(
        ActionStarted(at=AT, service="web", verb=Verb.CREATE, cause="c"),
        finished(Verb.CREATE),
        finished(Verb.CREATE, error="refused", retrying=True),
        finished(Verb.RECREATE, error="no such image"),
    )

    assert value(metrics, "reconciler_actions_total", verb="create", outcome="succeeded") == 1
    assert value(metrics, "reconciler_actions_total", verb="create", outcome="retrying") == 1
    assert value(metrics, "reconciler_actions_total", verb="recreate", outcome="failed") == 1
    assert value(metrics, "reconciler_actions_total", verb="start", outcome="succeeded") == 0


def test_every_series_of_a_bounded_label_exists_at_zero_from_the_start() -> None:
    scraped = samples(RunMetrics())

    actions = {dict(k[1])["verb"] for k in scraped if k[0] == "reconciler_actions_total"}
    assert actions == {"create", "start", "restart", "recreate", "reload", "remove"}
    drift = {dict(k[1])["kind"] for k in scraped if k[0] == "reconciler_drift_detected_total"}
    assert drift == {d.value for d in Drift}
    kinds = {dict(k[1])["kind"] for k in scraped if k[0] == "reconciler_journal_entries_total"}
    assert {"action-finished", "task-exited", "converged", "runtime-lost"} <= kinds
    ours = [v for k, v in scraped.items() if k[0].startswith("reconciler_") and "_total" in k[0]]
    assert ours
    assert all(v == 0 for v in ours)


def test_restarts_and_exits_per_service_with_the_code_or_oom() -> None:
    metrics = fed(
        exited("web", 3),
        exited("web", 3),
        exited("web", 0),
        exited("worker", 137, oom=True),
        ActionFinished(
            at=AT, service="web", verb=Verb.RESTART, cause="exited (always)", duration=SECOND
        ),
        ActionFinished(
            at=AT, service="web", verb=Verb.RECREATE, cause="config changed", duration=SECOND
        ),
    )

    assert value(metrics, "reconciler_service_exits_total", service="web", exit="3") == 2
    assert value(metrics, "reconciler_service_exits_total", service="web", exit="0") == 1
    assert value(metrics, "reconciler_service_exits_total", service="worker", exit="oom") == 1
    assert value(metrics, "reconciler_service_restarts_total", service="web") == 1


def test_every_entry_is_counted_by_its_kind() -> None:
    metrics = fed(
        exited("web", 1),
        HealthChanged(at=AT, service="web", health=Health.HEALTHY, detail="HTTP 200"),
        HealthChanged(at=AT, service="web", health=Health.UNHEALTHY, detail="HTTP 500"),
    )

    assert value(metrics, "reconciler_journal_entries_total", kind="health-changed") == 2
    assert value(metrics, "reconciler_journal_entries_total", kind="task-exited") == 1


def test_passes_are_a_histogram_of_their_durations() -> None:
    metrics = RunMetrics()
    metrics.pass_done(a_pass(seconds=0.003))
    metrics.pass_done(a_pass(seconds=0.2))

    assert value(metrics, "reconciler_pass_duration_seconds_count") == 2
    assert value(metrics, "reconciler_pass_duration_seconds_sum") == pytest.approx(0.203)
    assert value(metrics, "reconciler_pass_duration_seconds_bucket", le="0.005") == 1
    assert value(metrics, "reconciler_pass_duration_seconds_bucket", le="0.25") == 2


def test_a_drift_is_counted_once_when_it_appears_not_on_every_pass_that_sees_it() -> None:
    metrics = RunMetrics()
    drifted = status("web", ServiceState.RUNNING, drift=Drift.CONFIG_CHANGED, settled=False)
    metrics.pass_done(a_pass(status("web", ServiceState.RUNNING)))
    metrics.pass_done(a_pass(drifted))
    metrics.pass_done(a_pass(drifted))  # the recreate still in flight
    metrics.pass_done(a_pass(drifted, unreachable=True))  # saw nothing
    metrics.pass_done(a_pass(status("web", ServiceState.RUNNING)))
    metrics.pass_done(a_pass(status("web", ServiceState.PENDING, drift=Drift.TASK_MISSING)))

    assert value(metrics, "reconciler_drift_detected_total", kind="config-changed") == 1
    assert value(metrics, "reconciler_drift_detected_total", kind="task-missing") == 1
    assert value(metrics, "reconciler_drift_detected_total", kind="image-changed") == 0


def test_gauges_are_read_from_the_last_pass_when_scraped() -> None:
    metrics = RunMetrics()
    assert ("reconciler_services_running", ()) not in samples(metrics)  # no pass yet

    metrics.pass_done(
        a_pass(
            status("web", ServiceState.RUNNING),
            status("worker", ServiceState.FAILED, settled=False),
            status("off", ServiceState.DISABLED),
        )
    )

    assert value(metrics, "reconciler_services_desired") == 2
    assert value(metrics, "reconciler_services_running") == 1
    assert value(metrics, "reconciler_services", state="failed") == 1
    assert value(metrics, "reconciler_services", state="pending") == 0
    assert value(metrics, "reconciler_converged") == 0
    assert value(metrics, "reconciler_save_rejected") == 0
    assert value(metrics, "reconciler_runtime_reachable", runtime="containerd") == 1
    assert value(metrics, "reconciler_last_pass_timestamp_seconds") == (AT + SECOND).timestamp()
    assert value(metrics, "reconciler_leaks", **{"class": "tasks"}) == 0
    assert value(metrics, "reconciler_service_restarts_total", service="worker") == 0


def test_leaks_containerd_unreachable_and_a_rejected_save_show_in_the_gauges() -> None:
    metrics = RunMetrics()
    headless = RuntimeFacts(tasks=(TaskFact(id="demo-ghost", pid=7, phase=TaskPhase.RUNNING),))
    metrics.pass_done(
        a_pass(
            status("web", ServiceState.RUNNING),
            runtime=headless,
            rejected=RejectedSave(at=AT, error="Orchfile:3: unknown directive 'FORM'"),
        )
    )
    assert value(metrics, "reconciler_leaks", **{"class": "tasks"}) == 1
    assert value(metrics, "reconciler_save_rejected") == 1

    metrics.pass_done(a_pass(status("web", ServiceState.PENDING), unreachable=True))
    assert value(metrics, "reconciler_runtime_reachable", runtime="containerd") == 0
    assert value(metrics, "reconciler_runtime_reachable", runtime="host") == 1


def test_build_info_and_the_process_are_there() -> None:
    scraped = samples(RunMetrics())
    build = [dict(k[1]) for k in scraped if k[0] == "reconciler_build_info"]
    assert [b.keys() for b in build] == [{"version", "python"}]
    assert ("process_resident_memory_bytes", ()) in scraped


# -- where they are served -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("9100", "127.0.0.1", 9100),
        (":9100", "127.0.0.1", 9100),
        ("0.0.0.0:9100", "0.0.0.0", 9100),
        ("localhost:80", "localhost", 80),
        ("[::1]:9100", "::1", 9100),
        ("metrics.example:9100", "metrics.example", 9100),
    ],
)
def test_a_metrics_address_is_host_and_port_and_a_port_alone_is_loopback(
    text: str, host: str, port: int
) -> None:
    assert parse_listen_address(text, source="--metrics-address") == ListenAddress(
        host=host, port=port
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("abc", "the port must be a number from 0 to 65535"),
        ("127.0.0.1:70000", "the port must be a number from 0 to 65535"),
        ("127.0.0.1:", "the port must be a number"),
        ("::1:9100", "write an IPv6 address in brackets: [::1]:9100"),
        ("[nope]:9100", "'nope' is not an IPv6 address"),
        ("[::1]9100", "expected HOST:PORT, [IPv6]:PORT or PORT"),
        ("http://127.0.0.1:9100", "without a scheme"),
        ("a b:9100", "'a b' is not a host name or address"),
    ],
)
def test_a_bad_metrics_address_is_one_line_naming_where_it_came_from(
    text: str, problem: str
) -> None:
    with pytest.raises(UsageError) as refused:
        parse_listen_address(text, source="RECONCILER_METRICS_ADDRESS")
    message = str(refused.value)
    assert message.startswith(f"RECONCILER_METRICS_ADDRESS '{text}': ")
    assert problem in message
    assert "\n" not in message


def test_an_address_prints_as_it_is_written_and_knows_loopback() -> None:
    assert str(ListenAddress(host="::1", port=9100)) == "[::1]:9100"
    assert ListenAddress(host="::1", port=9100).url == "http://[::1]:9100/metrics"
    assert ListenAddress(host="127.0.0.1", port=1).loopback
    assert ListenAddress(host="localhost", port=1).loopback
    assert not ListenAddress(host="0.0.0.0", port=1).loopback
    assert not ListenAddress(host="metrics.example", port=1).loopback


def test_no_created_twins_double_the_scrape() -> None:
    assert not [k for k in samples(fed(exited("web", 1))) if k[0].endswith("_created")]
