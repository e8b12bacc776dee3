"""The Kubernetes objects an export writes: the small part of the API we need, typed.

Why typed rather than nested dicts: every mapping module builds these, and a misspelt
field or a port given as text would otherwise surface only when a cluster (or the schema
check in the tests) refuses the manifest. Field names are the API's in snake_case and in
the order a person reads a manifest; `reconciler.export.tree` turns them into the JSON
tree (camelCase, `None` and empty collections left out). A field whose key is not the
plain camelCase of its name says so in its metadata (`clusterIP`); a field marked
`INLINE` holds one of several alternatives (a probe's `httpGet`/`tcpSocket`/`exec`, a
volume's `persistentVolumeClaim`/`hostPath`), each class naming its own key.

Secret data holds `reconciler.model.secret.Secret` values, so a repr of an object never
shows them; only `tree` reveals them, base64-encoded, into a Secret's `data`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Final

from reconciler.model.secret import Secret as SecretValue

INLINE: Final = {"inline": True}


def key(name: str) -> dict[str, str]:
    """Field metadata for a key that is not the camelCase of the field's name."""
    return {"key": name}


class ServiceType(enum.Enum):
    CLUSTER_IP = "ClusterIP"
    NODE_PORT = "NodePort"
    LOAD_BALANCER = "LoadBalancer"


class RestartPolicy(enum.Enum):
    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


class Scheme(enum.Enum):
    HTTP = "HTTP"
    HTTPS = "HTTPS"


class StrategyType(enum.Enum):
    RECREATE = "Recreate"
    ROLLING_UPDATE = "RollingUpdate"


class Protocol(enum.Enum):
    TCP = "TCP"


class AccessMode(enum.Enum):
    READ_WRITE_ONCE = "ReadWriteOnce"


@dataclass(frozen=True, kw_only=True)
class ObjectMeta:
    name: str
    namespace: str | None = None
    labels: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class LabelSelector:
    match_labels: Mapping[str, str]


# -- containers --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SecretEnvSource:
    name: str


@dataclass(frozen=True, kw_only=True)
class EnvFromSource:
    secret_ref: SecretEnvSource


@dataclass(frozen=True, kw_only=True)
class SecretKeySelector:
    name: str
    key: str


@dataclass(frozen=True, kw_only=True)
class EnvVarSource:
    secret_key_ref: SecretKeySelector


@dataclass(frozen=True, kw_only=True)
class EnvVar:
    name: str
    value_from: EnvVarSource


@dataclass(frozen=True, kw_only=True)
class ContainerPort:
    name: str
    container_port: int
    protocol: Protocol = Protocol.TCP


@dataclass(frozen=True, kw_only=True)
class ResourceRequirements:
    requests: Mapping[str, str]
    limits: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class HttpGetAction:
    KEY: ClassVar[str] = "httpGet"
    path: str
    port: int
    scheme: Scheme


@dataclass(frozen=True, kw_only=True)
class TcpSocketAction:
    KEY: ClassVar[str] = "tcpSocket"
    port: int


@dataclass(frozen=True, kw_only=True)
class ExecAction:
    KEY: ClassVar[str] = "exec"
    command: tuple[str, ...]


ProbeHandler = HttpGetAction | TcpSocketAction | ExecAction


@dataclass(frozen=True, kw_only=True)
class Probe:
    handler: ProbeHandler = field(metadata=INLINE)
    period_seconds: int
    timeout_seconds: int
    failure_threshold: int
    success_threshold: int = 1


@dataclass(frozen=True, kw_only=True)
class VolumeMount:
    name: str
    mount_path: str


@dataclass(frozen=True, kw_only=True)
class Container:
    name: str
    image: str
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    working_dir: str | None = None
    ports: tuple[ContainerPort, ...] = ()
    env_from: tuple[EnvFromSource, ...] = ()
    env: tuple[EnvVar, ...] = ()
    resources: ResourceRequirements | None = None
    volume_mounts: tuple[VolumeMount, ...] = ()
    startup_probe: Probe | None = None
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None


# -- pods ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PersistentVolumeClaimSource:
    KEY: ClassVar[str] = "persistentVolumeClaim"
    claim_name: str


@dataclass(frozen=True, kw_only=True)
class HostPathSource:
    KEY: ClassVar[str] = "hostPath"
    path: str


VolumeSource = PersistentVolumeClaimSource | HostPathSource


@dataclass(frozen=True, kw_only=True)
class Volume:
    name: str
    source: VolumeSource = field(metadata=INLINE)


@dataclass(frozen=True, kw_only=True)
class PodSpec:
    # Our containers get no Kubernetes API token and no docker-link variables either.
    automount_service_account_token: bool = False
    enable_service_links: bool = False
    restart_policy: RestartPolicy
    termination_grace_period_seconds: int
    init_containers: tuple[Container, ...] = ()
    containers: tuple[Container, ...]
    volumes: tuple[Volume, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PodTemplateMeta:
    labels: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class PodTemplateSpec:
    metadata: PodTemplateMeta
    spec: PodSpec


# -- top-level objects ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Secret:
    API_VERSION: ClassVar[str] = "v1"
    KIND: ClassVar[str] = "Secret"
    metadata: ObjectMeta
    type: str = "Opaque"
    data: Mapping[str, SecretValue]


@dataclass(frozen=True, kw_only=True)
class VolumeResources:
    requests: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class PersistentVolumeClaimSpec:
    access_modes: tuple[AccessMode, ...]
    storage_class_name: str | None = None
    resources: VolumeResources


@dataclass(frozen=True, kw_only=True)
class PersistentVolumeClaim:
    API_VERSION: ClassVar[str] = "v1"
    KIND: ClassVar[str] = "PersistentVolumeClaim"
    metadata: ObjectMeta
    spec: PersistentVolumeClaimSpec


@dataclass(frozen=True, kw_only=True)
class ServicePort:
    name: str
    protocol: Protocol = Protocol.TCP
    port: int
    target_port: int
    node_port: int | None = None


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    type: ServiceType
    cluster_ip: str | None = field(default=None, metadata=key("clusterIP"))
    selector: Mapping[str, str]
    ports: tuple[ServicePort, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Service:
    API_VERSION: ClassVar[str] = "v1"
    KIND: ClassVar[str] = "Service"
    metadata: ObjectMeta
    spec: ServiceSpec


@dataclass(frozen=True, kw_only=True)
class DeploymentStrategy:
    type: StrategyType


@dataclass(frozen=True, kw_only=True)
class DeploymentSpec:
    replicas: int
    selector: LabelSelector
    strategy: DeploymentStrategy | None = None
    template: PodTemplateSpec


@dataclass(frozen=True, kw_only=True)
class Deployment:
    API_VERSION: ClassVar[str] = "apps/v1"
    KIND: ClassVar[str] = "Deployment"
    metadata: ObjectMeta
    spec: DeploymentSpec


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    backoff_limit: int
    suspend: bool | None = None
    template: PodTemplateSpec


@dataclass(frozen=True, kw_only=True)
class Job:
    API_VERSION: ClassVar[str] = "batch/v1"
    KIND: ClassVar[str] = "Job"
    metadata: ObjectMeta
    spec: JobSpec


KubeObject = Secret | PersistentVolumeClaim | Service | Deployment | Job
