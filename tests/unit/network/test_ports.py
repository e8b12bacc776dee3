"""Whether published host ports are free: another container's mapping, or a listener."""

from __future__ import annotations

import socket

import pytest

from reconciler.drivers.containerd.network.ports import MappedPorts, mapped_ports, port_problems
from reconciler.model.desired import PublishedPort

# As `iptables -t nat -S CNI-HOSTPORT-DNAT` prints portmap's rules.
RULES = (
    "-N CNI-HOSTPORT-DNAT\n"
    '-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"orch-orch-demo\\" '
    'id: \\"demo-web\\"" -m multiport --dports 18080,18081 -j CNI-DN-9fee444fc5c7fb5a5f0bf\n'
    '-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"podman\\" '
    'id: \\"a1b2\\"" -m multiport --dports 9000:9002 -j CNI-DN-0123\n'
)


def test_portmap_rules_name_the_container_and_its_ports() -> None:
    assert mapped_ports(RULES) == [
        MappedPorts(
            network="orch-orch-demo", container_id="demo-web", ports=frozenset({18080, 18081})
        ),
        MappedPorts(network="podman", container_id="a1b2", ports=frozenset({9000, 9001, 9002})),
    ]


def test_a_port_another_container_maps_is_taken_naming_it() -> None:
    problems = port_problems(
        [PublishedPort(host=9001, container=80)],
        container_id="demo-api",
        mappings=mapped_ports(RULES),
    )
    assert problems == ["host port 9001 is already published for container 'a1b2' (network podman)"]


def test_the_containers_own_mapping_is_not_a_conflict(free_port: int) -> None:
    mappings = [MappedPorts(network="n", container_id="demo-web", ports=frozenset({free_port}))]
    port = PublishedPort(host=free_port, container=80)
    assert port_problems([port], container_id="demo-web", mappings=mappings) == []


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_port_a_process_listens_on_is_taken_naming_the_process() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        problems = port_problems(
            [PublishedPort(host=port, container=80)], container_id="demo-web", mappings=[]
        )
    assert len(problems) == 1
    assert problems[0].startswith(f"host port {port} is in use by pid ")


def test_an_address_the_host_does_not_have_is_refused(free_port: int) -> None:
    port = PublishedPort(host=free_port, container=80, address="192.0.2.254")
    problems = port_problems([port], container_id="demo-web", mappings=None)
    assert problems == ["192.0.2.254 is not an address of this host"]
