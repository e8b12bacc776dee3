"""The project network's identity and the CNI configuration list it is set up with. Pure.

A project network is named after its namespace and project; its bridge's name must fit
the kernel's 15 characters, so it is `orch-` and a digest. The conflist chains `bridge`
(with `host-local` addresses out of the project's subnet, its state kept under our state
dir; masquerading is one rule per project, `nat`, not the plugin's per container) and,
only for a container that publishes ports, `portmap`: the plugins cost real time
(portmap's DEL is the slowest step), so a service that publishes nothing does not pay
for it.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from reconciler.model.desired import PublishedPort
from reconciler.model.publish import EVERY_ADDRESS

CNI_VERSION: Final = "1.0.0"
BRIDGE_PREFIX: Final = "orch-"
IFNAMSIZ: Final = 15
CONTAINER_IFNAME: Final = "eth0"


def network_name(namespace: str, project: str) -> str:
    """The CNI network name: unique per namespace and project."""
    return f"orch-{namespace}-{project}"


def bridge_name(namespace: str, project: str) -> str:
    digest = hashlib.sha256(f"{namespace}/{project}".encode()).hexdigest()
    return (BRIDGE_PREFIX + digest)[:IFNAMSIZ]


def ipam_dir(network_dir: Path) -> Path:
    """Where host-local keeps the project's allocations: `<dir>/<network name>/<address>`."""
    return network_dir / "ipam"


@dataclass(frozen=True, kw_only=True)
class ProjectNetwork:
    """One project's network: its name, bridge, subnet, and where its state lives."""

    namespace: str
    project: str
    subnet: ipaddress.IPv4Network
    state_dir: Path  # <project state>/network, the records' directory

    @property
    def name(self) -> str:
        return network_name(self.namespace, self.project)

    @property
    def bridge(self) -> str:
        return bridge_name(self.namespace, self.project)

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        return next(self.subnet.hosts())

    @property
    def ipam_dir(self) -> Path:
        return ipam_dir(self.state_dir)

    @property
    def hosts_file(self) -> Path:
        return self.state_dir / "hosts"

    @property
    def results_dir(self) -> Path:
        """The cached result of each container's ADD, which its DEL and CHECK are given."""
        return self.state_dir / "results"


def plugin_kinds(*, publishes: bool) -> tuple[str, ...]:
    """The plugins `conflist` runs, the IPAM plugin the bridge calls included."""
    return ("bridge", "host-local", "portmap") if publishes else ("bridge", "host-local")


def conflist(network: ProjectNetwork, *, publishes: bool) -> dict[str, Any]:
    """The configuration list for one container: bridge, and portmap when it publishes."""
    plugins: list[dict[str, Any]] = [
        {
            "type": "bridge",
            "bridge": network.bridge,
            "isGateway": True,
            "ipMasq": False,  # one rule per project instead: see `nat`
            "hairpinMode": True,
            "ipam": {
                "type": "host-local",
                "ranges": [[{"subnet": str(network.subnet), "gateway": str(network.gateway)}]],
                "routes": [{"dst": "0.0.0.0/0"}],
                "dataDir": str(network.ipam_dir),
            },
        }
    ]
    if publishes:
        plugins.append({"type": "portmap", "capabilities": {"portMappings": True}, "snat": True})
    return {"cniVersion": CNI_VERSION, "name": network.name, "plugins": plugins}


def port_mappings(ports: tuple[PublishedPort, ...]) -> list[dict[str, Any]]:
    """portmap's runtime configuration: each PUBLISH, TCP (what PUBLISH means)."""
    mappings = []
    for port in ports:
        mapping: dict[str, Any] = {
            "hostPort": port.host,
            "containerPort": port.container,
            "protocol": "tcp",
        }
        if port.address not in EVERY_ADDRESS:
            mapping["hostIP"] = port.address
        mappings.append(mapping)
    return mappings
