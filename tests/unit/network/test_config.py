"""The project network's names and the CNI configuration list a container is set up with."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from reconciler.drivers.containerd.network.config import (
    ProjectNetwork,
    conflist,
    port_mappings,
)
from reconciler.model.desired import PublishedPort

NETWORK = ProjectNetwork(
    namespace="orch",
    project="demo",
    subnet=ipaddress.IPv4Network("10.89.3.0/24"),
    state_dir=Path("/state/projects/orch/demo/network"),
)


def test_names_fit_the_kernel_and_say_whose_they_are() -> None:
    assert NETWORK.name == "orch-orch-demo"
    assert NETWORK.bridge.startswith("orch-")
    assert len(NETWORK.bridge) == 15
    other = ProjectNetwork(
        namespace="orch-demo", project="x", subnet=NETWORK.subnet, state_dir=Path("/s")
    )
    assert other.bridge != NETWORK.bridge
    assert NETWORK.gateway == ipaddress.IPv4Address("10.89.3.1")


def test_a_container_that_publishes_nothing_gets_no_portmap() -> None:
    conf = conflist(NETWORK, publishes=False)
    assert conf["cniVersion"] == "1.0.0"
    assert conf["name"] == "orch-orch-demo"
    assert [p["type"] for p in conf["plugins"]] == ["bridge"]
    bridge = conf["plugins"][0]
    assert bridge["bridge"] == NETWORK.bridge
    assert (bridge["isGateway"], bridge["ipMasq"], bridge["hairpinMode"]) == (True, False, True)
    assert bridge["ipam"] == {
        "type": "host-local",
        "ranges": [[{"subnet": "10.89.3.0/24", "gateway": "10.89.3.1"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "/state/projects/orch/demo/network/ipam",
    }


def test_a_publishing_container_gets_portmap_with_its_capability() -> None:
    conf = conflist(NETWORK, publishes=True)
    assert conf["plugins"][1] == {
        "type": "portmap",
        "capabilities": {"portMappings": True},
        "snat": True,
    }


def test_port_mappings_carry_an_address_only_when_one_is_given() -> None:
    ports = (
        PublishedPort(host=8080, container=80),
        PublishedPort(host=8081, container=80, address="127.0.0.1"),
        PublishedPort(host=8082, container=81, address="0.0.0.0"),
        PublishedPort(host=8083, container=81, address="::"),
    )
    assert port_mappings(ports) == [
        {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
        {"hostPort": 8081, "containerPort": 80, "protocol": "tcp", "hostIP": "127.0.0.1"},
        {"hostPort": 8082, "containerPort": 81, "protocol": "tcp"},
        {"hostPort": 8083, "containerPort": 81, "protocol": "tcp"},
    ]


def test_the_bridge_has_a_fixed_locally_administered_address() -> None:
    from reconciler.drivers.containerd.network.bridge import bridge_mac

    mac = bridge_mac(NETWORK)
    assert mac == bridge_mac(NETWORK)
    assert mac.startswith("02:")
    assert len(mac.split(":")) == 6
