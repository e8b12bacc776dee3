"""HEALTHCHECK and READINESS_TIMEOUT → startup, readiness and liveness probes.

Our health semantics, and the probe that carries each:
- while a service starts, its check runs every 0.5 s until it passes or
  READINESS_TIMEOUT (default 90 s) is spent: a startup probe every second, failing
  after as many tries as READINESS_TIMEOUT has seconds (the same budget; Kubernetes'
  shortest period is one second);
- once healthy, every 5 s, and one failure makes it unhealthy (dependents see it, as
  a Service stops sending traffic to a pod that is not ready): a readiness probe every
  5 s with a failure threshold of 1;
- a service that was healthy and fails 3 checks in a row is restarted: a liveness probe
  every 5 s with a failure threshold of 3.
Each check may take 5 s, our probe timeout, so every probe's `timeoutSeconds` is 5.

The check itself: an `http(s)://` URL or a `tcp://host:port` whose host is loopback
(`127.0.0.1`, `localhost`, `::1`) probes the container's own network namespace, so it is
an `httpGet` or `tcpSocket` on the pod's port (host left out, path and query kept). A
command runs in the container as our runtime runs it, `/bin/sh -c COMMAND`: an `exec`
probe. A URL or tcp check of another host has no probe form (a probe reaches its own
pod; running `wget` in the container would assume what the image holds): a warning, and
no probes. A ONESHOT's check is dropped with a warning too: a Job is done when its
container exits, and a probe would only be able to kill it.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import Final, assert_never
from urllib.parse import SplitResult, urlsplit

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings
from reconciler.model.desired import (
    CommandCheck,
    DesiredService,
    HealthCheck,
    HttpCheck,
    TcpCheck,
)

SHELL: Final = ("/bin/sh", "-c")
STARTUP_PERIOD_SECONDS: Final = 1
HEALTHY_PERIOD_SECONDS: Final = 5
PROBE_TIMEOUT_SECONDS: Final = 5
LIVENESS_FAILURES: Final = 3
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_SCHEMES: Final = {"http": kube.Scheme.HTTP, "https": kube.Scheme.HTTPS}


@dataclass(frozen=True, kw_only=True)
class Probes:
    startup: kube.Probe
    readiness: kube.Probe
    liveness: kube.Probe


def probes(service: DesiredService, findings: Findings) -> Probes | None:
    check = service.healthcheck
    if check is None:
        return None
    written = f"HEALTHCHECK {check_text(check)}"
    if service.oneshot:
        findings.warn(
            service.name,
            Directive.HEALTHCHECK,
            f"{written} on a ONESHOT: a Job is done when its container exits; no probes",
        )
        return None
    handler = probe_handler(check)
    if handler is None:
        findings.warn(
            service.name,
            Directive.HEALTHCHECK,
            f"{written} does not check the container itself, and a probe reaches only its "
            "own pod; no probes",
        )
        return None
    budget = max(1, math.ceil(service.readiness_timeout.total_seconds() / STARTUP_PERIOD_SECONDS))
    return Probes(
        startup=_probe(handler, STARTUP_PERIOD_SECONDS, budget),
        readiness=_probe(handler, HEALTHY_PERIOD_SECONDS, 1),
        liveness=_probe(handler, HEALTHY_PERIOD_SECONDS, LIVENESS_FAILURES),
    )


def probe_handler(check: HealthCheck) -> kube.ProbeHandler | None:
    """How a probe runs `check`, or None when no probe can (a check of another host)."""
    match check:
        case HttpCheck(url=url):
            parts = _loopback_url(url)
            if parts is None or parts.scheme not in _SCHEMES:
                return None
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            return kube.HttpGetAction(path=path, port=port, scheme=_SCHEMES[parts.scheme])
        case TcpCheck(host=host, port=port):
            if not _is_loopback(host):
                return None
            return kube.TcpSocketAction(port=port)
        case CommandCheck(command=command):
            return kube.ExecAction(command=(*SHELL, command))
        case _:
            assert_never(check)


def loopback_port(check: HealthCheck | None) -> int | None:
    """The container port a URL or tcp check of the container itself connects to."""
    if check is None:
        return None
    match probe_handler(check):
        case kube.HttpGetAction(port=port) | kube.TcpSocketAction(port=port):
            return port
        case _:
            return None


def _probe(handler: kube.ProbeHandler, period: int, failures: int) -> kube.Probe:
    return kube.Probe(
        handler=handler,
        period_seconds=period,
        timeout_seconds=PROBE_TIMEOUT_SECONDS,
        failure_threshold=failures,
    )


def _loopback_url(url: str) -> SplitResult | None:
    """The URL's parts when its host is this container's own loopback, else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if port == 0 or not _is_loopback(parts.hostname or ""):
        return None
    return parts


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def check_text(check: HealthCheck) -> str:
    """The check as the user wrote it."""
    match check:
        case HttpCheck(url=url) | TcpCheck(url=url):
            return url
        case CommandCheck(command=command):
            return command
        case _:
            assert_never(check)
