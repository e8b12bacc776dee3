"""One service's pod: the container's words, the Deployment or Job around it."""

from __future__ import annotations

from reconciler.export import kube
from reconciler.export.env import Environment
from reconciler.export.lifecycle import JobRestart
from reconciler.export.volumes import PodVolumes
from reconciler.export.workloads import PodParts, deployment, job, literal
from tests.unit.export.mapping import LABELLING, service

VOLUME = kube.Volume(name="v", source=kube.PersistentVolumeClaimSource(claim_name="v"))


def _parts(volumes=()):
    return PodParts(
        image="registry.example.com/app:1",
        environment=Environment(),
        volumes=PodVolumes(volumes=volumes),
        probes=None,
        resources=None,
        init_containers=(),
    )


def _container(**fields):
    made = deployment(service("app", **fields), _parts(), LABELLING)
    (container,) = made.spec.template.spec.containers
    return container


def test_entrypoint_is_the_command_and_cmd_the_args_word_for_word():
    container = _container(entrypoint=("/bin/sh", "-c"), cmd=("echo hi",), workdir="/srv")
    assert (container.command, container.args, container.working_dir) == (
        ("/bin/sh", "-c"),
        ("echo hi",),
        "/srv",
    )


def test_each_dollar_is_doubled_so_kubernetes_expands_nothing():
    assert literal(("echo $HOME $(id) $$",)) == ("echo $$HOME $$(id) $$$$",)
    assert _container(cmd=("$(x)",)).args == ("$$(x)",)


def test_neither_leaves_the_images_own():
    container = _container()
    assert (container.command, container.args) == (None, None)


def test_a_deployment_is_one_replica_named_after_the_service_restarting_always():
    made = deployment(service("app"), _parts(), LABELLING)
    assert (made.metadata.name, made.spec.replicas) == ("app", 1)
    assert made.spec.template.spec.restart_policy is kube.RestartPolicy.ALWAYS
    assert made.spec.selector.match_labels == LABELLING.selector("app")
    assert made.spec.template.metadata.labels == LABELLING.labels("app")


def test_a_deployment_with_volumes_is_recreated_and_one_without_rolls():
    with_volumes = deployment(service("app"), _parts((VOLUME,)), LABELLING)
    assert with_volumes.spec.strategy == kube.DeploymentStrategy(type=kube.StrategyType.RECREATE)
    assert deployment(service("app"), _parts(), LABELLING).spec.strategy is None


def test_a_job_takes_its_restart_policy_and_backoff_limit():
    restart = JobRestart(policy=kube.RestartPolicy.ON_FAILURE, backoff_limit=4)
    made = job(service("migrate", oneshot=True), _parts(), LABELLING, restart)
    assert made.spec.backoff_limit == 4
    assert made.spec.template.spec.restart_policy is kube.RestartPolicy.ON_FAILURE
    assert made.spec.suspend is None
