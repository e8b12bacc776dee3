"""PUBLISH → a Service, and every long-running service reachable by its name.

In our bridge network every container reaches every other service by the service's name,
on any port, and PUBLISH maps host ports for the world outside. So each long-running
service gets a Service named after it: with PUBLISH, of the `--expose` type (ClusterIP
unless asked), one port per published container port (`port` = `targetPort` = the
container port, so `web:80` answers inside the cluster as it did on the bridge);
without PUBLISH, a headless one (`clusterIP: None`, no ports), whose name resolves to
the pod itself, any port, once it is ready. A ONESHOT (a Job) gets one only if it
publishes.

What the host port becomes depends on `--expose`:
- clusterip: nothing; the Service is reachable inside the cluster only.
- nodeport: the node port, when it lies in Kubernetes' default range 30000-32767;
  otherwise the cluster allocates one (a warning names the host port it replaces).
- loadbalancer: an extra port of the load balancer (`host-<port>` → the container port),
  so clients outside reach the port they used to.
A port bound to one host address (`127.0.0.1:8080:80`) is a warning under nodeport and
loadbalancer, which answer on every node or on the balancer's address.

One name is taken: the Service `kubernetes` of the `default` namespace is the API
server's own, and applying ours would rewrite it. A service named `kubernetes` is an
error with `--namespace default`, and a warning without `--namespace` (kubectl's
namespace might be `default`).
"""

from __future__ import annotations

from typing import Final

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings
from reconciler.export.labels import Labelling
from reconciler.export.options import ExportOptions, Exposure
from reconciler.model.desired import DesiredService, PublishedPort

NODE_PORTS: Final = range(30000, 32768)
API_SERVICE: Final = "kubernetes"
DEFAULT_NAMESPACE: Final = "default"
_ANY_ADDRESS: Final = frozenset({"", "0.0.0.0", "::", "[::]"})
_SERVICE_TYPES: Final = {
    Exposure.CLUSTER_IP: kube.ServiceType.CLUSTER_IP,
    Exposure.NODE_PORT: kube.ServiceType.NODE_PORT,
    Exposure.LOAD_BALANCER: kube.ServiceType.LOAD_BALANCER,
}


def port_name(port: int) -> str:
    return f"tcp-{port}"


def published_ports(service: DesiredService) -> tuple[int, ...]:
    """The distinct container ports the service publishes, in the order written."""
    return tuple(dict.fromkeys(p.container for p in service.publish if p.container > 0))


def container_ports(service: DesiredService) -> tuple[kube.ContainerPort, ...]:
    return tuple(
        kube.ContainerPort(name=port_name(port), container_port=port)
        for port in published_ports(service)
    )


def service_object(
    service: DesiredService, labelling: Labelling, options: ExportOptions, findings: Findings
) -> kube.Service | None:
    _check_name(service, options, findings)
    for index, published in enumerate(service.publish):
        if published.container == 0:
            findings.fail(
                service.name,
                Directive.PUBLISH,
                f"PUBLISH {_written(published)} has no container port (0)",
                index,
            )
    if not service.publish:
        if service.oneshot:
            return None
        headless = kube.ServiceSpec(
            type=kube.ServiceType.CLUSTER_IP,
            cluster_ip="None",
            selector=labelling.selector(service.name),
        )
        return kube.Service(
            metadata=labelling.metadata(service.name, app=service.name), spec=headless
        )
    ports = [
        kube.ServicePort(
            name=port_name(port),
            port=port,
            target_port=port,
            node_port=_node_port(service, port, options, findings),
        )
        for port in published_ports(service)
    ]
    if options.exposure is Exposure.LOAD_BALANCER:
        ports.extend(_balancer_ports(service, {p.port for p in ports}))
    if options.exposure is not Exposure.CLUSTER_IP:
        _warn_bound_addresses(service, options.exposure, findings)
    spec = kube.ServiceSpec(
        type=_SERVICE_TYPES[options.exposure],
        selector=labelling.selector(service.name),
        ports=tuple(ports),
    )
    return kube.Service(metadata=labelling.metadata(service.name, app=service.name), spec=spec)


def _check_name(service: DesiredService, options: ExportOptions, findings: Findings) -> None:
    if service.name != API_SERVICE or options.namespace not in (None, DEFAULT_NAMESPACE):
        return
    message = (
        f"the Service '{API_SERVICE}' of the '{DEFAULT_NAMESPACE}' namespace is the API "
        "server's own, and this one would replace it; choose another --namespace"
    )
    if options.namespace == DEFAULT_NAMESPACE:
        findings.fail(service.name, Directive.SERVICE, message)
    else:
        findings.warn(service.name, Directive.SERVICE, message)


def _node_port(
    service: DesiredService, port: int, options: ExportOptions, findings: Findings
) -> int | None:
    if options.exposure is not Exposure.NODE_PORT:
        return None
    entries = [(i, p) for i, p in enumerate(service.publish) if p.container == port]
    chosen = None
    for index, published in entries:
        if chosen is None and published.host in NODE_PORTS:
            chosen = published.host
        elif published.host not in (0, chosen):
            findings.warn(
                service.name,
                Directive.PUBLISH,
                f"PUBLISH {_written(published)}: the cluster allocates the node port "
                f"(from {NODE_PORTS.start}-{NODE_PORTS.stop - 1}) instead of {published.host}",
                index,
            )
    return chosen


def _balancer_ports(service: DesiredService, taken: set[int]) -> list[kube.ServicePort]:
    extra = []
    for published in service.publish:
        if published.container > 0 and published.host > 0 and published.host not in taken:
            taken.add(published.host)
            extra.append(
                kube.ServicePort(
                    name=f"host-{published.host}",
                    port=published.host,
                    target_port=published.container,
                )
            )
    return extra


def _warn_bound_addresses(service: DesiredService, exposure: Exposure, findings: Findings) -> None:
    answers = "every node's address" if exposure is Exposure.NODE_PORT else "the balancer's address"
    for index, published in enumerate(service.publish):
        if published.address is not None and published.address not in _ANY_ADDRESS:
            findings.warn(
                service.name,
                Directive.PUBLISH,
                f"PUBLISH {_written(published)} is bound to {published.address} on the host; "
                f"the {exposure.value} Service answers on {answers}",
                index,
            )


def _written(published: PublishedPort) -> str:
    ports = f"{published.host}:{published.container}"
    return f"{published.address}:{ports}" if published.address else ports
