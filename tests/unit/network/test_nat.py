"""The project's one masquerading rule: its arguments, and finding it again."""

from __future__ import annotations

import ipaddress

from reconciler.drivers.containerd.network.nat import masquerade_rule, rules_of

SUBNET = ipaddress.IPv4Network("10.89.7.0/24")

# As `iptables -t nat -S POSTROUTING` prints the rules (portmap's shared one too).
LISTING = (
    "-P POSTROUTING ACCEPT\n"
    '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" '
    "-j CNI-HOSTPORT-MASQ\n"
    '-A POSTROUTING -s 10.89.7.0/24 ! -d 10.89.7.0/24 -m comment --comment "reconciler '
    'masquerade: orch-t-p" -j MASQUERADE\n'
    '-A POSTROUTING -s 10.89.8.0/24 ! -d 10.89.8.0/24 -m comment --comment "reconciler '
    'masquerade: orch-t-p-2" -j MASQUERADE\n'
)


def test_traffic_leaving_the_subnet_takes_the_hosts_address() -> None:
    assert masquerade_rule("orch-t-p", SUBNET) == [
        "POSTROUTING",
        "-s", "10.89.7.0/24",
        "!", "-d", "10.89.7.0/24",
        "-m", "comment", "--comment", "reconciler masquerade: orch-t-p",
        "-j", "MASQUERADE",
    ]  # fmt: skip


def test_the_rule_is_found_by_its_networks_comment_and_no_other() -> None:
    assert rules_of(LISTING, "orch-t-p") == [masquerade_rule("orch-t-p", SUBNET)]
    assert rules_of(LISTING, "orch-t-q") == []
