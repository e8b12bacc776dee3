"""A whole stack → its Kubernetes objects and what could not be carried over.

The entry point of the export: a pure function of the desired model, the ENV_FILE
contents (`envfiles`) and the user's choices (`options`). Host services (RUN) have no
Kubernetes form: an error, or with `--skip-host` a warning each, and they are left out.
Every container service gets its Secrets, its Service (`network`), and a Deployment or,
for a ONESHOT, a Job; the named volumes of all of them become claims. Objects come out
grouped by kind in the order a cluster can take them (Secrets and claims before the
pods that use them; Services, then Deployments and Jobs), each kind in file order, so
the same input always gives the same objects in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from reconciler.export import kube
from reconciler.export.dependencies import after_notes, init_containers
from reconciler.export.env import environment
from reconciler.export.envfiles import EnvFiles
from reconciler.export.findings import Directive, Finding, Findings, Severity
from reconciler.export.images import image_reference, unused_mappings
from reconciler.export.labels import Labelling
from reconciler.export.lifecycle import deployment_restart, job_restart
from reconciler.export.network import service_object
from reconciler.export.notes import unmapped_directives
from reconciler.export.options import ExportOptions
from reconciler.export.probes import probes
from reconciler.export.resources import resources
from reconciler.export.volumes import Claims, pod_volumes, volume_claims
from reconciler.export.workloads import PodParts, deployment, job
from reconciler.model.desired import DesiredService, DesiredStack, ServiceMode, ServiceName
from reconciler.model.secret import Secret


@dataclass(frozen=True, kw_only=True)
class Export:
    objects: tuple[kube.KubeObject, ...]
    findings: tuple[Finding, ...]

    def problems(self, *, strict: bool) -> tuple[Finding, ...]:
        """What makes the export fail: its errors, and with `strict` every warning too."""
        return tuple(f for f in self.findings if strict or f.severity is Severity.ERROR)


def export_stack(stack: DesiredStack, *, env_files: EnvFiles, options: ExportOptions) -> Export:
    findings = Findings()
    labelling = Labelling(project=stack.project, namespace=options.namespace)
    exported = _container_services(stack.services, options, findings)
    unused_mappings(exported, options, findings)
    context = _Context(
        exported={service.name: service for service in exported},
        claims=volume_claims(exported, labelling, options, findings),
        labelling=labelling,
        options=options,
        findings=findings,
    )
    secrets: list[kube.Secret] = []
    services: list[kube.Service] = []
    deployments: list[kube.Deployment] = []
    jobs: list[kube.Job] = []
    for service in exported:
        parts = _pod_parts(service, env_files.get(service.name, ()), context)
        if parts is not None:
            secrets.extend(parts.environment.secrets)
        if (network := service_object(service, labelling, options, findings)) is not None:
            services.append(network)
        if service.oneshot:
            restart = job_restart(service, findings)
            if parts is not None:
                jobs.append(job(service, parts, labelling, restart))
        else:
            deployment_restart(service, findings)
            if parts is not None:
                deployments.append(deployment(service, parts, labelling))
        after_notes(service, findings)
        unmapped_directives(service, stack.paths, findings)
    return Export(
        objects=(*secrets, *context.claims.objects, *services, *deployments, *jobs),
        findings=findings.all(),
    )


@dataclass(frozen=True, kw_only=True)
class _Context:
    """What every service's mapping shares within one export."""

    exported: Mapping[ServiceName, DesiredService]
    claims: Claims
    labelling: Labelling
    options: ExportOptions
    findings: Findings


def _container_services(
    services: Sequence[DesiredService], options: ExportOptions, findings: Findings
) -> list[DesiredService]:
    exported = []
    for service in services:
        match service.mode:
            case ServiceMode.CONTAINER:
                exported.append(service)
            case ServiceMode.HOST if options.skip_host:
                findings.warn(
                    service.name,
                    Directive.RUN,
                    "left out (--skip-host): host services have no Kubernetes form",
                )
            case ServiceMode.HOST:
                findings.fail(
                    service.name,
                    Directive.RUN,
                    "host services have no Kubernetes form (--skip-host leaves them out)",
                )
            case _:
                assert_never(service.mode)
    return exported


def _pod_parts(
    service: DesiredService, env_files: Sequence[Mapping[str, Secret]], context: _Context
) -> PodParts | None:
    """Every part of the service's pod, or None when an error left it without an image
    (the other parts are still mapped, so that all of a stack's findings come out)."""
    options, findings = context.options, context.findings
    image = image_reference(service, options, findings)
    parts = PodParts(
        image=image or "",
        environment=environment(service, env_files, context.labelling, findings),
        volumes=pod_volumes(service, context.claims, options, findings),
        probes=probes(service, findings),
        resources=resources(service, findings),
        init_containers=init_containers(service, context.exported, options, findings),
    )
    return parts if image is not None else None
