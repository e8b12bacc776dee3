"""HEALTHCHECK → startup, readiness and liveness probes with our health semantics."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings, Severity
from reconciler.export.probes import loopback_port, probe_handler, probes
from reconciler.model.desired import CommandCheck, HttpCheck, TcpCheck
from tests.unit.export.mapping import only, service


def _probes(**fields):
    findings = Findings()
    return probes(service("web", **fields), findings), findings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://127.0.0.1:8080/healthz",
            kube.HttpGetAction(path="/healthz", port=8080, scheme=kube.Scheme.HTTP),
        ),
        ("http://localhost/", kube.HttpGetAction(path="/", port=80, scheme=kube.Scheme.HTTP)),
        (
            "https://localhost/status",
            kube.HttpGetAction(path="/status", port=443, scheme=kube.Scheme.HTTPS),
        ),
        ("http://[::1]:9000", kube.HttpGetAction(path="/", port=9000, scheme=kube.Scheme.HTTP)),
        (
            "http://0.0.0.0:81/a?b=1&c",
            kube.HttpGetAction(path="/a?b=1&c", port=81, scheme=kube.Scheme.HTTP),
        ),
        ("http://127.0.0.2:82/", kube.HttpGetAction(path="/", port=82, scheme=kube.Scheme.HTTP)),
    ],
)
def test_a_url_of_the_container_itself_is_an_http_get_on_the_pod(url, expected):
    assert probe_handler(HttpCheck(url=url)) == expected


@pytest.mark.parametrize(
    "url", ["http://web:8080/", "http://10.0.0.1/", "http://host.orch.internal/"]
)
def test_a_url_of_another_host_has_no_probe(url):
    assert probe_handler(HttpCheck(url=url)) is None


def test_a_tcp_check_of_the_container_itself_is_a_tcp_socket():
    assert probe_handler(TcpCheck(host="127.0.0.1", port=5432)) == kube.TcpSocketAction(port=5432)


@pytest.mark.parametrize("host", ["db", "10.0.0.5"])
def test_a_tcp_check_of_another_host_has_no_probe(host):
    assert probe_handler(TcpCheck(host=host, port=5432)) is None


def test_a_command_runs_in_the_container_through_sh_as_our_runtime_runs_it():
    assert probe_handler(CommandCheck(command="pg_isready | grep ok")) == kube.ExecAction(
        command=("/bin/sh", "-c", "pg_isready | grep ok")
    )


def test_no_healthcheck_means_no_probes_and_nothing_to_say():
    found, findings = _probes()
    assert found is None
    assert not findings.all()


def test_the_startup_probe_tries_every_second_for_the_readiness_timeout():
    found, _ = _probes(
        healthcheck=HttpCheck(url="http://127.0.0.1/"), readiness_timeout=timedelta(minutes=2)
    )
    assert (found.startup.period_seconds, found.startup.failure_threshold) == (1, 120)


def test_a_readiness_timeout_under_a_second_is_one_try():
    found, _ = _probes(
        healthcheck=HttpCheck(url="http://127.0.0.1/"),
        readiness_timeout=timedelta(milliseconds=500),
    )
    assert found.startup.failure_threshold == 1


def test_the_default_readiness_timeout_is_90_tries():
    found, _ = _probes(healthcheck=HttpCheck(url="http://127.0.0.1/"))
    assert found.startup.failure_threshold == 90


def test_readiness_is_lost_on_one_failure_every_five_seconds():
    found, _ = _probes(healthcheck=HttpCheck(url="http://127.0.0.1/"))
    assert (found.readiness.period_seconds, found.readiness.failure_threshold) == (5, 1)


def test_liveness_restarts_after_three_failures_every_five_seconds():
    found, _ = _probes(healthcheck=HttpCheck(url="http://127.0.0.1/"))
    assert (found.liveness.period_seconds, found.liveness.failure_threshold) == (5, 3)


def test_every_probe_waits_five_seconds_for_a_check_and_needs_one_success():
    found, _ = _probes(healthcheck=CommandCheck(command="true"))
    for probe in (found.startup, found.readiness, found.liveness):
        assert (probe.timeout_seconds, probe.success_threshold) == (5, 1)


def test_a_check_of_another_host_is_a_warning_and_no_probes():
    found, findings = _probes(healthcheck=HttpCheck(url="http://web:8080/"))
    finding = only(findings)
    assert found is None
    assert (finding.severity, finding.directive) == (Severity.WARNING, Directive.HEALTHCHECK)
    assert "http://web:8080/" in finding.message


def test_a_oneshot_check_is_a_warning_and_no_probes():
    found, findings = _probes(healthcheck=CommandCheck(command="true"), oneshot=True)
    assert found is None
    assert "ONESHOT" in only(findings).message


def test_the_port_a_check_of_the_container_itself_connects_to():
    assert loopback_port(HttpCheck(url="http://127.0.0.1:8080/")) == 8080
    assert loopback_port(TcpCheck(host="localhost", port=5432)) == 5432
    assert loopback_port(CommandCheck(command="true")) is None
    assert loopback_port(HttpCheck(url="http://web:8080/")) is None
    assert loopback_port(None) is None
