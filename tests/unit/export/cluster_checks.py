"""Would a cluster accept these manifests as they are? Checked offline, two ways.

1. The Kubernetes OpenAPI schemas, through kubernetes-validate's Python API, in strict
   mode (unknown fields refused), for the two newest Kubernetes versions it ships. Its
   API is used rather than its CLI because the CLI only warns (exit 0) on a kind or
   apiVersion it has no schema for; here that is a failure.
2. The API server's own validation rules the schemas do not carry (they have no
   patterns, and allow null everywhere): names and label values, selectors that match
   their templates, unique container, port and volume names, probe thresholds, requests
   within limits, and references between the objects (every Secret, key and claim a pod
   names is in the same export).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Iterator
from typing import Any, Final

import kubernetes_validate
from kubernetes_validate.utils import all_versions
from packaging.version import Version

DNS_LABEL: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_1035: Final = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN: Final = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
LABEL_VALUE: Final = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
IANA_SVC_NAME: Final = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
SECRET_KEY: Final = re.compile(r"[-._a-zA-Z0-9]+")
ENV_NAME: Final = re.compile(r"[\x20-\x3c\x3e-\x7e]+")
QUANTITY: Final = re.compile(r"([0-9]+(\.[0-9]+)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?")
RECOMMENDED_LABELS: Final = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
)
_QUANTITY_UNITS: Final = {
    "": 1, "m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip


def newest_versions(count: int = 2) -> list[str]:
    """The newest Kubernetes versions kubernetes-validate has schemas for."""
    return sorted(set(all_versions()), key=Version)[-count:]


KUBERNETES_VERSIONS: Final = newest_versions()


def assert_cluster_accepts(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        for version in KUBERNETES_VERSIONS:
            _validate_cached(json.dumps(obj, sort_keys=True), version)
    problems = list(api_server_problems(objects))
    assert not problems, "\n".join(problems)


@functools.cache
def _validate_cached(text: str, version: str) -> None:
    """Identical objects (many golden variants share some) are validated once."""
    obj = json.loads(text)
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(p) for p in error.path)
        raise AssertionError(
            f"{obj['kind']}/{obj['metadata']['name']} fails Kubernetes {version}: "
            f"{path}: {error.message}"
        ) from None


def api_server_problems(objects: list[dict[str, Any]]) -> Iterator[str]:
    seen: set[tuple[str, str]] = set()
    secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}
    claims = {o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"}
    for obj in objects:
        where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        yield from (f"{where}: {p}" for p in _nulls(obj, ""))
        if not obj.get("apiVersion") or not obj.get("kind") or "name" not in obj["metadata"]:
            yield f"{where}: apiVersion, kind and metadata.name are required"
            continue
        key = (obj["kind"], obj["metadata"]["name"])
        if key in seen:
            yield f"{where}: twice in one export"
        seen.add(key)
        yield from (f"{where}: {p}" for p in _metadata(obj))
        match obj["kind"]:
            case "Deployment":
                yield from (f"{where}: {p}" for p in _deployment(obj, secrets, claims))
            case "Job":
                yield from (f"{where}: {p}" for p in _job(obj, secrets, claims))
            case "Service":
                yield from (f"{where}: {p}" for p in _service(obj))
            case "Secret":
                yield from (f"{where}: {p}" for p in _secret(obj))
            case "PersistentVolumeClaim":
                yield from (f"{where}: {p}" for p in _claim(obj))
            case other:
                yield f"{where}: an export makes no {other}"


def _nulls(value: Any, path: str) -> Iterator[str]:
    if value is None:
        yield f"{path or '.'} is null"
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _nulls(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nulls(v, f"{path}[{i}]")


def _metadata(obj: dict[str, Any]) -> Iterator[str]:
    meta = obj["metadata"]
    name = meta["name"]
    rule = DNS_1035 if obj["kind"] == "Service" else DNS_SUBDOMAIN
    limit = 63 if obj["kind"] == "Service" else 253
    if not rule.fullmatch(name) or len(name) > limit:
        yield f"name {name!r} is not valid for a {obj['kind']}"
    if "namespace" in meta and not (DNS_LABEL.fullmatch(meta["namespace"])):
        yield f"namespace {meta['namespace']!r} is not a DNS label"
    labels = meta.get("labels", {})
    yield from _labels(labels)
    for label in RECOMMENDED_LABELS:
        if label not in labels:
            yield f"label {label} is missing"
    if labels.get("app.kubernetes.io/managed-by") != "reconciler":
        yield "not labelled app.kubernetes.io/managed-by=reconciler"


def _labels(labels: dict[str, str]) -> Iterator[str]:
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if prefix and not DNS_SUBDOMAIN.fullmatch(prefix):
            yield f"label key {key!r} has an invalid prefix"
        if not (0 < len(name) <= 63 and LABEL_VALUE.fullmatch(name)):
            yield f"label key {key!r} is invalid"
        if len(value) > 63 or not LABEL_VALUE.fullmatch(value):
            yield f"label value {value!r} is invalid"


def _deployment(obj: dict[str, Any], secrets: dict[str, Any], claims: set[str]) -> Iterator[str]:
    spec = obj["spec"]
    template = spec["template"]
    selector = spec["selector"]["matchLabels"]
    labels = template["metadata"]["labels"]
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        yield "selector does not match the template's labels"
    if template["spec"].get("restartPolicy", "Always") != "Always":
        yield "a Deployment's pods must restart Always"
    if spec.get("replicas", 1) < 0:
        yield "replicas < 0"
    strategy = spec.get("strategy", {})
    if strategy.get("type") == "Recreate" and "rollingUpdate" in strategy:
        yield "Recreate strategy with rollingUpdate"
    yield from _pod(template["spec"], secrets, claims)


def _job(obj: dict[str, Any], secrets: dict[str, Any], claims: set[str]) -> Iterator[str]:
    spec = obj["spec"]
    if "selector" in spec:
        yield "a Job's selector is the API server's to make"
    if spec["template"]["spec"].get("restartPolicy") not in ("OnFailure", "Never"):
        yield "a Job's pods must restart OnFailure or Never"
    if spec.get("backoffLimit", 0) < 0:
        yield "backoffLimit < 0"
    yield from _pod(spec["template"]["spec"], secrets, claims)


def _pod(pod: dict[str, Any], secrets: dict[str, Any], claims: set[str]) -> Iterator[str]:
    containers = [*pod.get("initContainers", []), *pod["containers"]]
    names = [c["name"] for c in containers]
    if len(set(names)) != len(names):
        yield f"container names repeat: {names}"
    volumes = [v["name"] for v in pod.get("volumes", [])]
    if len(set(volumes)) != len(volumes):
        yield f"volume names repeat: {volumes}"
    for volume in pod.get("volumes", []):
        if not DNS_LABEL.fullmatch(volume["name"]) or len(volume["name"]) > 63:
            yield f"volume name {volume['name']!r} is not a DNS label"
        sources = [k for k in volume if k != "name"]
        if len(sources) != 1:
            yield f"volume {volume['name']} has {len(sources)} sources"
        claim = volume.get("persistentVolumeClaim", {}).get("claimName")
        if claim is not None and claim not in claims:
            yield f"volume {volume['name']} names claim {claim}, which is not exported"
        if "hostPath" in volume and not volume["hostPath"]["path"].startswith("/"):
            yield f"hostPath {volume['hostPath']['path']} is not absolute"
    if pod.get("terminationGracePeriodSeconds", 0) < 0:
        yield "terminationGracePeriodSeconds < 0"
    ports: list[str] = []
    for container in containers:
        yield from _container(container, set(volumes), secrets)
        ports.extend(p["name"] for p in container.get("ports", []) if "name" in p)
    if len(set(ports)) != len(ports):
        yield f"port names repeat in the pod: {ports}"


def _container(
    container: dict[str, Any], volumes: set[str], secrets: dict[str, Any]
) -> Iterator[str]:
    name = container["name"]
    if not DNS_LABEL.fullmatch(name) or len(name) > 63:
        yield f"container name {name!r} is not a DNS label"
    if not container.get("image"):
        yield f"container {name} has no image"
    for port in container.get("ports", []):
        if not 0 < port["containerPort"] < 65536:
            yield f"container {name}: port {port['containerPort']} out of range"
        if "name" in port:
            yield from _port_name(port["name"])
    mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
    if len(set(mounts)) != len(mounts):
        yield f"container {name}: mount paths repeat: {mounts}"
    for mount in container.get("volumeMounts", []):
        if mount["name"] not in volumes:
            yield f"container {name}: mount of unknown volume {mount['name']}"
    yield from (f"container {name}: {p}" for p in _environment(container, secrets))
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        if kind in container:
            yield from (f"container {name}: {kind}: {p}" for p in _probe(kind, container[kind]))
    yield from (f"container {name}: {p}" for p in _resources(container.get("resources", {})))


def _environment(container: dict[str, Any], secrets: dict[str, Any]) -> Iterator[str]:
    for var in container.get("env", []):
        if not ENV_NAME.fullmatch(var["name"]):
            yield f"env name {var['name']!r} is invalid"
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref is not None and ref["key"] not in secrets.get(ref["name"], {}).get("data", {}):
            yield f"env {var['name']} names a missing {ref['name']}/{ref['key']}"
    for source in container.get("envFrom", []):
        if source["secretRef"]["name"] not in secrets:
            yield f"envFrom names missing Secret {source['secretRef']['name']}"


def _port_name(name: str) -> Iterator[str]:
    if len(name) > 15 or not IANA_SVC_NAME.fullmatch(name) or "--" in name:
        yield f"port name {name!r} is not an IANA service name"
    if not re.search(r"[a-z]", name):
        yield f"port name {name!r} has no letter"


def _probe(kind: str, probe: dict[str, Any]) -> Iterator[str]:
    handlers = [k for k in ("exec", "httpGet", "tcpSocket", "grpc") if k in probe]
    if len(handlers) != 1:
        yield f"{len(handlers)} handlers"
    for handler in ("httpGet", "tcpSocket"):
        if handler in probe and not 0 < probe[handler]["port"] < 65536:
            yield f"port {probe[handler]['port']} out of range"
    if kind != "readinessProbe" and probe.get("successThreshold", 1) != 1:
        yield "successThreshold must be 1"
    for field in ("periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"):
        if probe.get(field, 1) < 1:
            yield f"{field} must be at least 1"


def _resources(resources: dict[str, Any]) -> Iterator[str]:
    requests, limits = resources.get("requests", {}), resources.get("limits", {})
    for name, value in (*requests.items(), *limits.items()):
        if not QUANTITY.fullmatch(str(value)):
            yield f"{name} {value!r} is not a quantity"
    for name, value in requests.items():
        if name in limits and _quantity(value) > _quantity(limits[name]):
            yield f"{name} request {value} exceeds the limit {limits[name]}"


def _quantity(text: str) -> float:
    match = QUANTITY.fullmatch(text)
    assert match is not None
    return float(match.group(1)) * _QUANTITY_UNITS[match.group(3) or ""]


def _service(obj: dict[str, Any]) -> Iterator[str]:
    spec = obj["spec"]
    ports = spec.get("ports", [])
    if not ports and spec.get("clusterIP") != "None":
        yield "a Service that is not headless needs ports"
    if spec.get("clusterIP") == "None" and spec.get("type", "ClusterIP") != "ClusterIP":
        yield "only a ClusterIP Service can be headless"
    if not spec.get("selector"):
        yield "no selector"
    names = [p.get("name") for p in ports]
    if len(ports) > 1 and (None in names or len(set(names)) != len(names)):
        yield f"port names must be given and unique: {names}"
    pairs = [(p["port"], p.get("protocol", "TCP")) for p in ports]
    if len(set(pairs)) != len(pairs):
        yield f"ports repeat: {pairs}"
    for port in ports:
        if "name" in port and (not DNS_LABEL.fullmatch(port["name"]) or len(port["name"]) > 63):
            yield f"port name {port['name']!r} is not a DNS label"
        if not 0 < port["port"] < 65536 or not 0 < port.get("targetPort", 1) < 65536:
            yield f"port {port} out of range"
        if "nodePort" in port:
            if spec.get("type") not in ("NodePort", "LoadBalancer"):
                yield f"nodePort on a {spec.get('type')} Service"
            if not 30000 <= port["nodePort"] <= 32767:
                yield f"nodePort {port['nodePort']} outside the default range"
    node_ports = [p["nodePort"] for p in ports if "nodePort" in p]
    if len(set(node_ports)) != len(node_ports):
        yield f"node ports repeat: {node_ports}"


def _secret(obj: dict[str, Any]) -> Iterator[str]:
    for key, value in obj.get("data", {}).items():
        if not SECRET_KEY.fullmatch(key):
            yield f"data key {key!r} is invalid"
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error:
            yield f"data {key} is not base64"


def _claim(obj: dict[str, Any]) -> Iterator[str]:
    spec = obj["spec"]
    if not spec.get("accessModes"):
        yield "no access modes"
    storage = spec.get("resources", {}).get("requests", {}).get("storage")
    if storage is None or not QUANTITY.fullmatch(str(storage)):
        yield f"storage request {storage!r} is not a quantity"
