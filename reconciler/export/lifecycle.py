"""RESTART, start limits and TIMEOUT_STOP → what Deployments and Jobs allow.

A Deployment's pods restart their container after every exit (`restartPolicy: Always`
is the only one it allows), with the kubelet's back-off (10 s, doubling to 5 min) and no
limit. So for a long-running service RESTART always maps exactly; RESTART no and
on-failure change meaning (a clean exit, or any exit, restarts), and so do
RESTART_DELAY and the start limits when set to other than their defaults: each a warning.

A ONESHOT is a Job. Our runtime never reruns a oneshot that exited 0 and restarts a
failed one by RESTART: no → `restartPolicy: Never` and `backoffLimit: 0`; on-failure and
always (always cannot rerun a completed oneshot either) → `OnFailure` and a
`backoffLimit` of START_LIMIT_BURST - 1 (the burst counts starts, the limit retries).
The Job counts retries over its whole run, not within START_LIMIT_INTERVAL, and backs
off as the kubelet does: a non-default interval or RESTART_DELAY is a warning.

TIMEOUT_STOP is the time between SIGTERM and SIGKILL, `terminationGracePeriodSeconds`
(whole seconds, rounded up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import assert_never

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings
from reconciler.model.desired import (
    DEFAULT_RESTART_DELAY,
    DEFAULT_START_LIMIT_BURST,
    DEFAULT_START_LIMIT_INTERVAL,
    DesiredService,
    Restart,
)
from reconciler.model.units import format_duration


@dataclass(frozen=True, kw_only=True)
class JobRestart:
    policy: kube.RestartPolicy
    backoff_limit: int


def deployment_restart(service: DesiredService, findings: Findings) -> None:
    """Warnings for what a Deployment's restarts do differently; it has no choice to make."""
    spec = service.restart
    match spec.policy:
        case Restart.ALWAYS:
            pass
        case Restart.ON_FAILURE:
            findings.warn(
                service.name,
                Directive.RESTART,
                "RESTART on-failure: a Deployment restarts its container after any exit, "
                "a clean one too",
            )
        case Restart.NO:
            findings.warn(
                service.name,
                Directive.RESTART,
                "RESTART no: a Deployment restarts its container whenever it exits "
                "(a ONESHOT becomes a Job, which runs once)",
            )
        case _:
            assert_never(spec.policy)
    no_limit = "a Deployment restarts a crashing container forever (CrashLoopBackOff)"
    if spec.start_limit_burst != DEFAULT_START_LIMIT_BURST:
        findings.warn(
            service.name,
            Directive.START_LIMIT_BURST,
            f"START_LIMIT_BURST {spec.start_limit_burst}: {no_limit}",
        )
    if spec.start_limit_interval != DEFAULT_START_LIMIT_INTERVAL:
        findings.warn(
            service.name,
            Directive.START_LIMIT_INTERVAL,
            f"START_LIMIT_INTERVAL {format_duration(spec.start_limit_interval)}: {no_limit}",
        )
    _warn_delay(service, findings)


def job_restart(service: DesiredService, findings: Findings) -> JobRestart:
    spec = service.restart
    match spec.policy:
        case Restart.NO:
            return JobRestart(policy=kube.RestartPolicy.NEVER, backoff_limit=0)
        case Restart.ON_FAILURE | Restart.ALWAYS:
            if spec.start_limit_interval != DEFAULT_START_LIMIT_INTERVAL:
                findings.warn(
                    service.name,
                    Directive.START_LIMIT_INTERVAL,
                    f"START_LIMIT_INTERVAL {format_duration(spec.start_limit_interval)}: a "
                    "Job counts its retries over its whole run (backoffLimit)",
                )
            _warn_delay(service, findings)
            return JobRestart(
                policy=kube.RestartPolicy.ON_FAILURE,
                backoff_limit=max(0, spec.start_limit_burst - 1),
            )
        case _:
            assert_never(spec.policy)


def grace_period_seconds(service: DesiredService) -> int:
    return math.ceil(service.timeout_stop.total_seconds())


def _warn_delay(service: DesiredService, findings: Findings) -> None:
    if service.restart.delay != DEFAULT_RESTART_DELAY:
        findings.warn(
            service.name,
            Directive.RESTART_DELAY,
            f"RESTART_DELAY {format_duration(service.restart.delay)}: the kubelet's restart "
            "back-off (10s, doubling to 5m) cannot be set",
        )
