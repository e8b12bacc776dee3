"""A whole stack: which services become what, in which order, labelled how."""

from __future__ import annotations

from pathlib import Path

from reconciler.export import kube
from reconciler.export.findings import Directive, Severity
from reconciler.export.options import ExportOptions
from reconciler.export.stack import export_stack
from reconciler.model.desired import LocalImage, NamedVolume, PublishedPort, ServiceMode
from reconciler.model.secret import Secret
from tests.support.desired import stack
from tests.unit.export.mapping import service

HOST = {"mode": ServiceMode.HOST, "image": None, "command": "sleep 1"}


def _export(*services, env_files=None, **options):
    return export_stack(
        stack(*services, project="shop"),
        env_files=env_files or {},
        options=ExportOptions(**options),
    )


def _kinds(result):
    return [(type(o).__name__, o.metadata.name) for o in result.objects]


def test_a_long_running_service_is_a_deployment_with_one_replica_and_its_service():
    result = _export(service("web"))
    assert _kinds(result) == [("Service", "web"), ("Deployment", "web")]
    assert result.objects[1].spec.replicas == 1


def test_a_oneshot_is_a_job():
    assert _kinds(_export(service("migrate", oneshot=True))) == [("Job", "migrate")]


def test_a_disabled_service_has_no_replica_and_a_disabled_oneshot_is_suspended():
    result = _export(service("web", disabled=True), service("job", oneshot=True, disabled=True))
    deployment, job = result.objects[1], result.objects[2]
    assert deployment.spec.replicas == 0
    assert job.spec.suspend is True


def test_objects_come_grouped_by_kind_in_the_order_a_cluster_takes_them():
    volume = NamedVolume(name="v", host_path=Path("/v"), destination="/v")
    web = service("web", env={"A": "x"}, volumes=(volume,))
    job = service("job", oneshot=True, publish=(PublishedPort(host=1, container=1),))
    result = _export(job, web, env_files={"web": ({"B": Secret("y")},)})
    assert _kinds(result) == [
        ("Secret", "web-env-file-1"),
        ("Secret", "web-env"),
        ("PersistentVolumeClaim", "v"),
        ("Service", "job"),
        ("Service", "web"),
        ("Deployment", "web"),
        ("Job", "job"),
    ]


def test_a_deployment_with_volumes_is_replaced_not_rolled():
    volume = NamedVolume(name="v", host_path=Path("/v"), destination="/v")
    with_volume, without = _export(service("a", volumes=(volume,)), service("b")).objects[3:5]
    assert with_volume.spec.strategy == kube.DeploymentStrategy(type=kube.StrategyType.RECREATE)
    assert without.spec.strategy is None


def test_every_object_carries_the_three_labels_and_the_namespace():
    volume = NamedVolume(name="v", host_path=Path("/v"), destination="/v")
    result = _export(service("web", env={"A": "x"}, volumes=(volume,)), namespace="team")
    for obj in result.objects:
        assert obj.metadata.namespace == "team"
        assert obj.metadata.labels["app.kubernetes.io/part-of"] == "shop"
        assert obj.metadata.labels["app.kubernetes.io/managed-by"] == "reconciler"
        assert "app.kubernetes.io/name" in obj.metadata.labels


def test_a_host_service_is_an_error():
    result = _export(service("clock", **HOST), service("web"))
    (finding,) = result.problems(strict=False)
    assert (finding.service, finding.directive) == ("clock", Directive.RUN)
    assert "host services have no Kubernetes form" in finding.message


def test_a_host_service_is_left_out_with_a_warning_under_skip_host():
    result = _export(service("clock", **HOST), service("web"), skip_host=True)
    assert _kinds(result) == [("Service", "web"), ("Deployment", "web")]
    assert [(f.service, f.severity) for f in result.findings if f.directive is Directive.RUN] == [
        ("clock", Severity.WARNING)
    ]
    assert result.problems(strict=False) == ()


def test_strict_makes_every_warning_a_problem():
    result = _export(service("clock", **HOST), skip_host=True)
    assert result.problems(strict=True) == result.findings


def test_a_service_without_an_image_still_has_its_other_findings_reported():
    local = LocalImage(path=Path("/img"), written_as="./img")
    result = _export(service("web", image=local, after=("db",)))
    directives = {f.directive for f in result.findings}
    assert directives == {Directive.FROM, Directive.RESTART, Directive.AFTER}
    assert _kinds(result) == [("Service", "web")]


def test_the_same_stack_gives_equal_objects():
    web = service("web", env={"A": "x"}, requires=("db",))
    db = service("db", publish=(PublishedPort(host=5432, container=5432),))
    assert _export(web, db) == _export(web, db)
