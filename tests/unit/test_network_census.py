"""The network census: our objects read from fake /run/netns, /sys/class/net, IPAM dirs
and canned `iptables -S` text, and nothing of another namespace or tool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.drivers.containerd.network.census import (
    CannotLook,
    NetworkCensus,
    allocation_owner,
    iptables_nat_rules,
    nat_rules,
)
from reconciler.drivers.containerd.network.config import bridge_name
from reconciler.drivers.containerd.network.records import Attachment, NetworkRecords
from reconciler.model.network_facts import (
    BridgeFact,
    IpamAllocation,
    NatRules,
    NetnsFact,
    VethFact,
)

NS = "orch"
BRIDGE = bridge_name(NS, "demo")

# What `iptables -t nat -S` printed for one container with a published port (portmap and
# bridge with ipMasq, plugins 1.1.1), plus another network's rule and unrelated ones.
LISTING = r"""-P PREROUTING ACCEPT
-N CNI-DN-c6d73186b7a22ee881aca
-N CNI-HOSTPORT-DNAT
-N CNI-c6d73186b7a22ee881aca909
-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ
-A POSTROUTING -s 10.251.77.2/32 -m comment --comment "name: \"orch-orch-demo\" id: \"demo-web\"" -j CNI-c6d73186b7a22ee881aca909
-A POSTROUTING -s 10.9.0.2/32 -m comment --comment "name: \"orch-orch-demo-x\" id: \"demo-x-web\"" -j CNI-0123456789abcdef01234567
-A POSTROUTING -s 10.88.0.7/32 -m comment --comment "name: \"podman\" id: \"demo-web\"" -j CNI-fedcba
-A CNI-DN-c6d73186b7a22ee881aca -p tcp -m tcp --dport 18089 -j DNAT --to-destination 10.251.77.2:80
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"orch-orch-demo\" id: \"demo-web\"" -m multiport --dports 18089 -j CNI-DN-c6d73186b7a22ee881aca
-A CNI-c6d73186b7a22ee881aca909 -d 10.251.77.0/24 -m comment --comment "name: \"orch-orch-demo\" id: \"demo-web\"" -j ACCEPT
-A CNI-c6d73186b7a22ee881aca909 ! -d 224.0.0.0/4 -m comment --comment "name: \"orch-orch-demo\" id: \"demo-web\"" -j MASQUERADE
-A POSTROUTING -s 10.251.77.3/32 -m comment --comment "name: \"orch-orch-demo\" id: \"demo-db\"" -j CNI-aaaa
-A POSTROUTING -s 10.251.77.0/24 ! -d 10.251.77.0/24 -m comment --comment "reconciler masquerade: orch-orch-demo" -j MASQUERADE
-A POSTROUTING -s 10.9.0.0/24 ! -d 10.9.0.0/24 -m comment --comment "reconciler masquerade: orch-orch-demo-x" -j MASQUERADE
"""  # noqa: E501 (verbatim iptables output)


def attachment(cid: str, *, veth: str | None, bridge: str = BRIDGE) -> Attachment:
    result: dict[str, Any] | None = None
    if veth is not None:
        result = {
            "interfaces": [
                {"name": bridge, "mac": "aa"},
                {"name": veth, "mac": "bb"},
                {"name": "eth0", "mac": "cc", "sandbox": f"/run/netns/orch-{NS}--{cid}"},
            ],
            "ips": [{"interface": 2, "address": "10.251.77.2/24"}],
        }
    return Attachment(
        container_id=cid,
        service=cid.removeprefix("demo-"),
        netns=f"orch-{NS}--{cid}",
        ifname="eth0",
        conflist={"cniVersion": "1.0.0", "name": "orch-orch-demo", "plugins": [{"bridge": bridge}]},
        result=result,
    )


def make_bridge(sys_net: Path, name: str, *ports: str) -> None:
    (sys_net / name / "bridge").mkdir(parents=True)
    (sys_net / name / "brif").mkdir()
    for port in ports:
        (sys_net / name / "brif" / port).touch()


def census(tmp_path: Path, **fields: Any) -> NetworkCensus:
    values: dict[str, Any] = {
        "namespace": NS,
        "networks": {"demo": tmp_path / "demo" / "network"},
        "netns_dir": tmp_path / "netns",
        "sys_net": tmp_path / "sys",
        "list_nat_rules": lambda: LISTING,
    }
    values.update(fields)
    return NetworkCensus(**values)


def test_only_our_namespaces_of_this_containerd_namespace_are_listed(tmp_path: Path) -> None:
    (tmp_path / "netns").mkdir()
    for name in ("orch-orch--demo-web", "orch-other--demo-web", "cni-1234", "orch-orch-x"):
        (tmp_path / "netns" / name).touch()

    found = census(tmp_path).namespaces()

    assert found == (NetnsFact(name="orch-orch--demo-web", container_id="demo-web"),)


def test_no_netns_dir_means_no_namespaces(tmp_path: Path) -> None:
    assert census(tmp_path).namespaces() == ()


def test_veths_on_our_bridge_are_named_by_the_records_that_list_them(tmp_path: Path) -> None:
    records = NetworkRecords(tmp_path / "demo" / "network")
    records.save(attachment("demo-web", veth="veth1111"))
    records.save(attachment("demo-db", veth=None))  # ADD never answered
    make_bridge(tmp_path / "sys", BRIDGE, "veth1111", "veth2222")
    make_bridge(tmp_path / "sys", "orch-someoneels", "veth3333")

    found = census(tmp_path).veths()

    assert found == (
        VethFact(name="veth1111", bridge=BRIDGE, project="demo", container_id="demo-web"),
        VethFact(name="veth2222", bridge=BRIDGE, project="demo", container_id=None),
    )


def test_bridges_of_the_projects_are_found_by_name_and_by_record(tmp_path: Path) -> None:
    records = NetworkRecords(tmp_path / "demo" / "network")
    records.save(attachment("demo-web", veth="veth1111"))
    records.save(attachment("demo-old", veth="veth9999", bridge="orch-recorded"))
    make_bridge(tmp_path / "sys", BRIDGE, "veth1111", "veth2222")
    make_bridge(tmp_path / "sys", "orch-recorded")
    (tmp_path / "sys" / "veth1111").mkdir()  # an interface that is not a bridge

    found = census(tmp_path).bridges()

    assert found == (
        BridgeFact(name=BRIDGE, project="demo", interfaces=2, holders=("demo-web",)),
        BridgeFact(name="orch-recorded", project="demo", interfaces=0, holders=("demo-old",)),
    )


def test_a_bridge_that_does_not_exist_is_not_listed(tmp_path: Path) -> None:
    NetworkRecords(tmp_path / "demo" / "network").save(attachment("demo-web", veth="v1"))

    assert census(tmp_path).bridges() == ()
    assert census(tmp_path).veths() == ()


def test_ipam_allocations_are_the_address_files_with_their_container(tmp_path: Path) -> None:
    network = tmp_path / "demo" / "network" / "ipam" / "orch-orch-demo"
    network.mkdir(parents=True)
    (network / "10.251.77.2").write_text("demo-web\neth0")
    (network / "10.251.77.3").write_text("")
    (network / "last_reserved_ip.0").write_text("10.251.77.3")
    (network / "lock").touch()

    found = census(tmp_path).ipam_allocations()

    assert found == (
        IpamAllocation(
            path=network / "10.251.77.2",
            address="10.251.77.2",
            project="demo",
            container_id="demo-web",
        ),
        IpamAllocation(
            path=network / "10.251.77.3", address="10.251.77.3", project="demo", container_id=None
        ),
    )


def test_a_project_without_an_ipam_dir_has_no_allocations(tmp_path: Path) -> None:
    assert census(tmp_path).ipam_allocations() == ()


@pytest.mark.parametrize(
    ("text", "owner"),
    [("demo-web\neth0", "demo-web"), ("demo-web\r\neth0", "demo-web"), ("", None), ("\n", None)],
)
def test_an_allocation_file_names_its_container_on_its_first_line(
    text: str, owner: str | None
) -> None:
    assert allocation_owner(text) == owner


def test_nat_rules_are_grouped_per_container_of_our_networks_only() -> None:
    found = nat_rules(LISTING, {"orch-orch-demo": "demo"})

    assert found == (
        NatRules(network="orch-orch-demo", container_id="", rules=1, project="demo"),
        NatRules(
            network="orch-orch-demo",
            container_id="demo-db",
            rules=1,
            chains=("CNI-aaaa",),
            project="demo",
        ),
        NatRules(
            network="orch-orch-demo",
            container_id="demo-web",
            rules=4,
            chains=("CNI-DN-c6d73186b7a22ee881aca", "CNI-c6d73186b7a22ee881aca909"),
            project="demo",
        ),
    )


def test_the_census_asks_for_the_exact_network_names_of_its_projects(tmp_path: Path) -> None:
    # "orch-orch-demo-x" starts like demo's network name but is project demo-x's.
    found = census(tmp_path).nat_rules()

    assert {(r.network, r.container_id) for r in found} == {
        ("orch-orch-demo", "demo-web"),
        ("orch-orch-demo", "demo-db"),
        ("orch-orch-demo", ""),
    }


def test_iptables_that_cannot_answer_is_cannot_look(tmp_path: Path) -> None:
    def refused() -> str:
        raise CannotLook("iptables: Permission denied (you must be root)")

    with pytest.raises(CannotLook, match="must be root"):
        census(tmp_path, list_nat_rules=refused).nat_rules()


def test_iptables_missing_or_refusing_is_cannot_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CannotLook, match="not installed"):
        iptables_nat_rules()

    fake = tmp_path / "iptables"
    fake.write_text("#!/bin/sh\necho 'Permission denied (you must be root)' >&2\nexit 4\n")
    fake.chmod(0o755)
    with pytest.raises(CannotLook, match=r"^iptables: Permission denied \(you must be root\)$"):
        iptables_nat_rules()
