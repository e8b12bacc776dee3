"""Directives a pod has no place for: each one set is a warning, and nothing is written.

- RECREATE always: our runtime replaces the container every time `run` or `apply`
  starts; Kubernetes replaces a pod only when its template changes (`kubectl rollout
  restart` does it on demand).
- TIMEOUT_START other than its default: Kubernetes bounds no start (READINESS_TIMEOUT,
  the startup probe's budget, is the nearest thing).
- STDOUT and STDERR other than the defaults: a cluster keeps a container's output in its
  own logs (`kubectl logs`), not in a file the Orchfile names.
- `host.orch.internal` in ENTRYPOINT, CMD or HEALTHCHECK: the name our bridge network
  gives the host, which a cluster does not have. (ENV values are not searched: they are
  secrets, read only to write a Secret.)
"""

from __future__ import annotations

from reconciler.export.findings import Directive, Findings
from reconciler.export.probes import check_text
from reconciler.model.desired import DEFAULT_TIMEOUT_START, DesiredService, ProjectPaths
from reconciler.model.units import format_duration

HOST_NAME = "host.orch.internal"


def unmapped_directives(service: DesiredService, paths: ProjectPaths, findings: Findings) -> None:
    if service.recreate_always:
        findings.warn(
            service.name,
            Directive.RECREATE,
            "RECREATE always: Kubernetes replaces a pod only when its template changes "
            "(kubectl rollout restart does it on demand)",
        )
    if service.timeout_start != DEFAULT_TIMEOUT_START:
        findings.warn(
            service.name,
            Directive.TIMEOUT_START,
            f"TIMEOUT_START {format_duration(service.timeout_start)}: Kubernetes bounds no "
            "container start; left out",
        )
    logs = (
        (Directive.STDOUT, service.stdout, paths.logs / f"{service.name}.log"),
        (Directive.STDERR, service.stderr, paths.logs / f"{service.name}.err"),
    )
    for directive, path, default in logs:
        if path != default:
            findings.warn(
                service.name,
                directive,
                f"{directive.value} {path}: a cluster keeps container output in its own logs "
                "(kubectl logs); no file is written",
            )
    _warn_host_name(service, findings)


def _warn_host_name(service: DesiredService, findings: Findings) -> None:
    check = service.healthcheck
    texts = (
        (Directive.ENTRYPOINT, " ".join(service.entrypoint or ())),
        (Directive.CMD, " ".join(service.cmd or ())),
        (Directive.HEALTHCHECK, "" if check is None else check_text(check)),
    )
    for directive, text in texts:
        if HOST_NAME in text:
            findings.warn(
                service.name,
                directive,
                f"{directive.value} names {HOST_NAME}, the host of our bridge network, which a "
                "cluster does not have",
            )
