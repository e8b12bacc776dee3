"""VOLUME → PersistentVolumeClaims and the pod's volumes and mounts.

A named volume is data the project keeps across recreates: a PersistentVolumeClaim
named after the volume (`names.dns_label`), `ReadWriteOnce`, of `--volume-size` (1Gi
unless given, per volume with `NAME=SIZE`) and of `--storage-class` when given, one per
volume however many services mount it. A claim two services share is a warning: on one
host they share a folder, while a `ReadWriteOnce` claim is shared only by pods on the
same node.

A bind mount names a path on this host, which a cluster does not have; it becomes a
`hostPath` volume (the same path on whichever node runs the pod) only with
`--allow-host-path`, with a warning, and is an error otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings
from reconciler.export.labels import Labelling
from reconciler.export.names import dns_label, joined
from reconciler.export.options import ExportOptions
from reconciler.model.desired import BindMount, DesiredService, NamedVolume, ServiceName


@dataclass(frozen=True, kw_only=True)
class Claims:
    """The claims of a stack's named volumes, and each volume's claim name."""

    objects: tuple[kube.PersistentVolumeClaim, ...]
    names: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class PodVolumes:
    volumes: tuple[kube.Volume, ...] = ()
    mounts: tuple[kube.VolumeMount, ...] = ()


def volume_claims(
    services: Sequence[DesiredService],
    labelling: Labelling,
    options: ExportOptions,
    findings: Findings,
) -> Claims:
    users: dict[str, list[ServiceName]] = {}
    for service in services:
        for index, volume in enumerate(service.volumes):
            if not isinstance(volume, NamedVolume):
                continue
            sharing = users.setdefault(volume.name, [])
            if sharing and service.name not in sharing:
                others = ", ".join(sharing)
                findings.warn(
                    service.name,
                    Directive.VOLUME,
                    f"VOLUME {volume.name}:{volume.destination} shares its claim with {others}; "
                    "a ReadWriteOnce claim is shared only by pods on one node",
                    index,
                )
            if service.name not in sharing:
                sharing.append(service.name)
    for name in options.volume_sizes:
        if name not in users:
            findings.warn(None, None, f"--volume-size {name}=...: no service has that volume")
    names = {volume: dns_label(volume) for volume in users}
    claims = tuple(
        _claim(
            names[volume], options.volume_sizes.get(volume, options.volume_size), labelling, options
        )
        for volume in users
    )
    return Claims(objects=claims, names=names)


def pod_volumes(
    service: DesiredService, claims: Claims, options: ExportOptions, findings: Findings
) -> PodVolumes:
    volumes: list[kube.Volume] = []
    mounts: list[kube.VolumeMount] = []
    taken = {claims.names[v.name] for v in service.volumes if isinstance(v, NamedVolume)}
    # Two VOLUMEs of one destination: the later one is mounted, as in our runtime.
    last = {volume.destination: index for index, volume in enumerate(service.volumes)}
    for index, volume in enumerate(service.volumes):
        if last[volume.destination] != index:
            continue
        match volume:
            case NamedVolume(name=name, destination=destination):
                claim = claims.names[name]
                source: kube.VolumeSource = kube.PersistentVolumeClaimSource(claim_name=claim)
                volume_name = claim
            case BindMount(source=path, destination=destination):
                written = f"VOLUME {path}:{destination}"
                if not options.allow_host_path:
                    findings.fail(
                        service.name,
                        Directive.VOLUME,
                        f"{written} mounts a path of this host; a pod can have it only as a "
                        "hostPath volume (that path on whichever node runs it): "
                        "--allow-host-path",
                        index,
                    )
                    continue
                findings.warn(
                    service.name,
                    Directive.VOLUME,
                    f"{written} becomes a hostPath volume: {path} on whichever node runs the pod",
                    index,
                )
                source = kube.HostPathSource(path=str(path))
                volume_name = _free(joined("host-path", str(index + 1)), taken)
                taken.add(volume_name)
        if all(v.name != volume_name for v in volumes):
            volumes.append(kube.Volume(name=volume_name, source=source))
        mounts.append(kube.VolumeMount(name=volume_name, mount_path=destination))
    return PodVolumes(volumes=tuple(volumes), mounts=tuple(mounts))


def _claim(
    name: str, size: str, labelling: Labelling, options: ExportOptions
) -> kube.PersistentVolumeClaim:
    return kube.PersistentVolumeClaim(
        metadata=labelling.metadata(name, app=name),
        spec=kube.PersistentVolumeClaimSpec(
            access_modes=(kube.AccessMode.READ_WRITE_ONCE,),
            storage_class_name=options.storage_class,
            resources=kube.VolumeResources(requests={"storage": size}),
        ),
    )


def _free(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = joined(name, str(number))
    return candidate
