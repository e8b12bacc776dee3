"""VOLUME → claims (named volumes) and hostPath volumes (bind mounts, when allowed)."""

from __future__ import annotations

from pathlib import Path

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings, Severity
from reconciler.export.options import ExportOptions
from reconciler.export.volumes import pod_volumes, volume_claims
from reconciler.model.desired import BindMount, NamedVolume
from tests.unit.export.mapping import LABELLING, messages, service


def named(name, destination):
    return NamedVolume(name=name, host_path=Path("/state/volumes") / name, destination=destination)


def bind(source, destination):
    return BindMount(source=Path(source), destination=destination)


def _claims(*services, **options):
    findings = Findings()
    return volume_claims(services, LABELLING, ExportOptions(**options), findings), findings


def _pod(svc, **options):
    claims, findings = _claims(svc, **options)
    return pod_volumes(svc, claims, ExportOptions(**options), findings), findings


def test_a_named_volume_is_one_claim_of_the_default_size():
    claims, _ = _claims(service("db", volumes=(named("pgdata", "/data"),)))
    (claim,) = claims.objects
    assert claim.metadata.name == "pgdata"
    assert claim.spec.access_modes == (kube.AccessMode.READ_WRITE_ONCE,)
    assert claim.spec.resources.requests == {"storage": "1Gi"}
    assert claim.spec.storage_class_name is None


def test_the_size_and_class_are_the_users_choice_per_volume_or_for_all():
    svc = service("db", volumes=(named("pgdata", "/data"), named("logs", "/logs")))
    claims, _ = _claims(
        svc, volume_size="5Gi", volume_sizes={"pgdata": "20Gi"}, storage_class="fast"
    )
    assert [
        (c.spec.resources.requests["storage"], c.spec.storage_class_name) for c in claims.objects
    ] == [
        ("20Gi", "fast"),
        ("5Gi", "fast"),
    ]


def test_a_volume_two_services_share_is_one_claim_and_a_warning():
    db = service("db", volumes=(named("pgdata", "/data"),))
    backup = service("backup", volumes=(named("pgdata", "/backup"),))
    claims, findings = _claims(db, backup)
    (finding,) = findings.all()
    assert len(claims.objects) == 1
    assert (finding.service, finding.directive, finding.index) == ("backup", Directive.VOLUME, 0)
    assert "shares its claim with db" in finding.message


def test_a_volume_name_kubernetes_refuses_becomes_a_valid_claim_name():
    claims, _ = _claims(service("db", volumes=(named("Scratch_Space", "/s"),)))
    assert claims.names["Scratch_Space"].startswith("scratch-space-")


def test_a_size_for_a_volume_no_service_has_is_a_warning():
    _, findings = _claims(service("db"), volume_sizes={"nope": "1Gi"})
    assert messages(findings) == ["--volume-size nope=...: no service has that volume"]


def test_the_pod_mounts_its_claims():
    found, _ = _pod(service("db", volumes=(named("pgdata", "/data"),)))
    assert found.volumes == (
        kube.Volume(name="pgdata", source=kube.PersistentVolumeClaimSource(claim_name="pgdata")),
    )
    assert found.mounts == (kube.VolumeMount(name="pgdata", mount_path="/data"),)


def test_one_volume_mounted_twice_is_one_pod_volume_and_two_mounts():
    found, _ = _pod(service("db", volumes=(named("v", "/a"), named("v", "/b"))))
    assert [v.name for v in found.volumes] == ["v"]
    assert [m.mount_path for m in found.mounts] == ["/a", "/b"]


def test_a_bind_mount_is_an_error_without_allow_host_path():
    found, findings = _pod(service("db", volumes=(bind("/srv/x", "/x"),)))
    (finding,) = findings.all()
    assert found.volumes == ()
    assert (finding.severity, finding.directive) == (Severity.ERROR, Directive.VOLUME)
    assert "--allow-host-path" in finding.message


def test_a_bind_mount_is_a_host_path_with_a_warning_when_allowed():
    found, findings = _pod(service("db", volumes=(bind("/srv/x", "/x"),)), allow_host_path=True)
    (finding,) = findings.all()
    assert found.volumes == (
        kube.Volume(name="host-path-1", source=kube.HostPathSource(path="/srv/x")),
    )
    assert finding.severity is Severity.WARNING


def test_two_volumes_at_one_destination_mount_the_later_one_as_our_runtime_does():
    svc = service("db", volumes=(bind("/srv/a", "/x"), named("v", "/x")))
    found, findings = _pod(svc)
    assert found.mounts == (kube.VolumeMount(name="v", mount_path="/x"),)
    assert not findings.all()


def test_a_host_path_volume_never_takes_a_claims_name():
    svc = service("db", volumes=(named("host-path-2", "/a"), bind("/srv/b", "/b")))
    found, _ = _pod(svc, allow_host_path=True)
    assert len({v.name for v in found.volumes}) == 2
