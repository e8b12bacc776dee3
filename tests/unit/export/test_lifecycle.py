"""RESTART and the start limits → what Deployments and Jobs allow; TIMEOUT_STOP → grace."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings, Severity
from reconciler.export.lifecycle import deployment_restart, grace_period_seconds, job_restart
from reconciler.model.desired import Restart
from tests.support.desired import restart
from tests.unit.export.mapping import service


def _deployment_warnings(spec):
    findings = Findings()
    deployment_restart(service("web", restart=spec), findings)
    return [(f.severity, f.directive) for f in findings.all()]


def _job(spec):
    findings = Findings()
    mapped = job_restart(service("job", oneshot=True, restart=spec), findings)
    return mapped, [(f.severity, f.directive) for f in findings.all()]


def test_restart_always_is_what_a_deployment_does():
    assert _deployment_warnings(restart(Restart.ALWAYS)) == []


@pytest.mark.parametrize("policy", [Restart.NO, Restart.ON_FAILURE])
def test_restart_no_and_on_failure_change_meaning_in_a_deployment(policy):
    assert _deployment_warnings(restart(policy)) == [(Severity.WARNING, Directive.RESTART)]


def test_start_limits_and_delay_other_than_the_defaults_are_warnings_on_a_deployment():
    spec = restart(Restart.ALWAYS, delay=3, burst=10, interval=60)
    assert _deployment_warnings(spec) == [
        (Severity.WARNING, Directive.START_LIMIT_BURST),
        (Severity.WARNING, Directive.START_LIMIT_INTERVAL),
        (Severity.WARNING, Directive.RESTART_DELAY),
    ]


def test_a_oneshot_that_never_restarts_is_a_job_that_never_retries():
    mapped, warnings = _job(restart(Restart.NO))
    assert (mapped.policy, mapped.backoff_limit) == (kube.RestartPolicy.NEVER, 0)
    assert warnings == []


@pytest.mark.parametrize("policy", [Restart.ON_FAILURE, Restart.ALWAYS])
def test_a_restarted_oneshot_retries_on_failure_up_to_its_start_limit(policy):
    mapped, warnings = _job(restart(policy, burst=3))
    assert (mapped.policy, mapped.backoff_limit) == (kube.RestartPolicy.ON_FAILURE, 2)
    assert warnings == []


def test_the_default_start_limit_is_four_retries():
    assert _job(restart(Restart.ON_FAILURE))[0].backoff_limit == 4


def test_a_jobs_retries_count_over_its_whole_run_so_an_interval_is_a_warning():
    _, warnings = _job(restart(Restart.ON_FAILURE, interval=30, delay=5))
    assert warnings == [
        (Severity.WARNING, Directive.START_LIMIT_INTERVAL),
        (Severity.WARNING, Directive.RESTART_DELAY),
    ]


@pytest.mark.parametrize(("stop", "seconds"), [(10, 10), (1.5, 2), (0, 0), (0.2, 1)])
def test_timeout_stop_is_the_grace_period_in_whole_seconds_rounded_up(stop, seconds):
    svc = service("web", timeout_stop=timedelta(seconds=stop))
    assert grace_period_seconds(svc) == seconds
