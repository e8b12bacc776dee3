"""REQUIRES → init containers that wait for the required service to answer; AFTER → a note.

In our runtime a service whose REQUIRES are not ready (running and healthy) waits. A
pod's init containers run before its containers, so each required service gets one:
`--wait-image` (busybox) looping until `nc -z` connects to the required service's
Service on a port it answers on. A ClusterIP Service forwards only to ready pods, and
a headless Service's name resolves only to ready pods, so the connection succeeds once
the required service passes its readiness probe, as REQUIRES waits for its HEALTHCHECK.
The port is its first published container port, else the port of its own URL or tcp
HEALTHCHECK. A required service with neither has no port that tells when it answers: a
warning, and no wait.

What has no such form, each a warning on the dependent's REQUIRES:
- a ONESHOT dependency is a Job, and a pod cannot wait for a Job to complete without
  access to the Kubernetes API: apply, `kubectl wait --for=condition=complete job/NAME`,
  and restart the dependents if they started too early (docs/kubernetes.md);
- a host service left out by `--skip-host`: nothing to wait for.
Our runtime also restarts a service's dependents after it is recreated; Kubernetes does
not (docs/kubernetes.md says so; it is not a per-service warning).

AFTER only orders starts, and Kubernetes starts pods in no particular order: one warning
per service that has AFTER.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings
from reconciler.export.names import joined
from reconciler.export.network import published_ports
from reconciler.export.options import ExportOptions
from reconciler.export.probes import loopback_port
from reconciler.model.desired import DesiredService, ServiceName


def answering_port(service: DesiredService) -> int | None:
    """The port that answers once `service` is ready, if there is one we know of."""
    published = published_ports(service)
    return published[0] if published else loopback_port(service.healthcheck)


def init_containers(
    service: DesiredService,
    exported: Mapping[ServiceName, DesiredService],
    options: ExportOptions,
    findings: Findings,
) -> tuple[kube.Container, ...]:
    waiters: list[kube.Container] = []
    seen: set[ServiceName] = set()
    for index, name in enumerate(service.requires):
        if name in seen:
            continue
        seen.add(name)
        required = exported.get(name)
        written = f"REQUIRES {name}"
        if required is None:
            findings.warn(
                service.name,
                Directive.REQUIRES,
                f"{written}: {name} is a host service, which is not exported; no wait",
                index,
            )
        elif required.oneshot:
            findings.warn(
                service.name,
                Directive.REQUIRES,
                f"{written}: {name} is a ONESHOT (a Job), and a pod cannot wait for a Job to "
                f"complete; run `kubectl wait --for=condition=complete job/{name}` "
                "(docs/kubernetes.md)",
                index,
            )
        elif (port := answering_port(required)) is None:
            findings.warn(
                service.name,
                Directive.REQUIRES,
                f"{written}: {name} publishes no port and has no URL or tcp HEALTHCHECK, so "
                "no port tells when it answers; no wait",
                index,
            )
        else:
            waiters.append(_waiter(service, name, port, options))
    return tuple(waiters)


def after_notes(service: DesiredService, findings: Findings) -> None:
    if service.after:
        names = " ".join(service.after)
        findings.warn(
            service.name,
            Directive.AFTER,
            f"AFTER {names}: Kubernetes starts pods in no particular order (only REQUIRES "
            "becomes a wait)",
        )


def _waiter(
    service: DesiredService, required: ServiceName, port: int, options: ExportOptions
) -> kube.Container:
    name = joined("wait-for", required)
    if name == service.name:
        name = joined("wait-for", required, "first")
    script = (
        f"until nc -z -w 2 {required} {port}; do echo waiting for {required}:{port}; sleep 1; done"
    )
    return kube.Container(name=name, image=options.wait_image, command=("sh", "-c", script))
