"""One service's pod, as a Deployment (long-running) or a Job (ONESHOT).

The other modules decide each part (image, environment, volumes, probes, resources,
init containers, restarts); this one puts them where the API wants them:
- the container is named after the service and runs ENTRYPOINT as `command` and CMD as
  `args`, exactly the words our runtime runs (an ENTRYPOINT without CMD drops the
  image's CMD there as it does here), WORKDIR as `workingDir`, and the image's USER
  (nothing is set over it);
- Kubernetes expands `$(NAME)` in `command` and `args` and reads `$$` as `$`, which our
  runtime never does, so each `$` is written `$$` and the process gets the same words;
- a Deployment has 1 replica (0 when DISABLED) and the `Recreate` strategy when the pod
  has volumes, so the old pod lets go of its claim before the new one starts, as our
  runtime stops a container before it creates the next; a Job is `suspend`ed when
  DISABLED;
- TIMEOUT_STOP is the pod's `terminationGracePeriodSeconds`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.export import kube
from reconciler.export.env import Environment
from reconciler.export.labels import Labelling
from reconciler.export.lifecycle import JobRestart, grace_period_seconds
from reconciler.export.network import container_ports
from reconciler.export.probes import Probes
from reconciler.export.volumes import PodVolumes
from reconciler.model.desired import DesiredService


@dataclass(frozen=True, kw_only=True)
class PodParts:
    """What the mapping modules decided for one service's pod."""

    image: str
    environment: Environment
    volumes: PodVolumes
    probes: Probes | None
    resources: kube.ResourceRequirements | None
    init_containers: tuple[kube.Container, ...]


def deployment(service: DesiredService, parts: PodParts, labelling: Labelling) -> kube.Deployment:
    strategy = kube.DeploymentStrategy(type=kube.StrategyType.RECREATE)
    return kube.Deployment(
        metadata=labelling.metadata(service.name, app=service.name),
        spec=kube.DeploymentSpec(
            replicas=0 if service.disabled else 1,
            selector=kube.LabelSelector(match_labels=labelling.selector(service.name)),
            strategy=strategy if parts.volumes.volumes else None,
            template=_template(service, parts, labelling, kube.RestartPolicy.ALWAYS),
        ),
    )


def job(
    service: DesiredService, parts: PodParts, labelling: Labelling, restart: JobRestart
) -> kube.Job:
    return kube.Job(
        metadata=labelling.metadata(service.name, app=service.name),
        spec=kube.JobSpec(
            backoff_limit=restart.backoff_limit,
            suspend=True if service.disabled else None,
            template=_template(service, parts, labelling, restart.policy),
        ),
    )


def literal(words: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """`words` as Kubernetes must be given them to pass them on unchanged."""
    return None if words is None else tuple(word.replace("$", "$$") for word in words)


def _template(
    service: DesiredService,
    parts: PodParts,
    labelling: Labelling,
    restart_policy: kube.RestartPolicy,
) -> kube.PodTemplateSpec:
    return kube.PodTemplateSpec(
        metadata=kube.PodTemplateMeta(labels=labelling.labels(service.name)),
        spec=kube.PodSpec(
            restart_policy=restart_policy,
            termination_grace_period_seconds=grace_period_seconds(service),
            init_containers=parts.init_containers,
            containers=(_container(service, parts),),
            volumes=parts.volumes.volumes,
        ),
    )


def _container(service: DesiredService, parts: PodParts) -> kube.Container:
    probes = parts.probes
    return kube.Container(
        name=service.name,
        image=parts.image,
        command=literal(service.entrypoint),
        args=literal(service.cmd),
        working_dir=service.workdir,
        ports=container_ports(service),
        env_from=parts.environment.env_from,
        env=parts.environment.env,
        resources=parts.resources,
        volume_mounts=parts.volumes.mounts,
        startup_probe=probes.startup if probes else None,
        readiness_probe=probes.readiness if probes else None,
        liveness_probe=probes.liveness if probes else None,
    )
