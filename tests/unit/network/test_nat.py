"""The masquerading rules a DEL could not remove: found by the container's comment."""

from __future__ import annotations

from reconciler.drivers.containerd.network.nat import leftover_commands

# As `iptables -t nat -S POSTROUTING` prints the bridge plugin's and portmap's rules.
RULES = (
    "-P POSTROUTING ACCEPT\n"
    '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" '
    "-j CNI-HOSTPORT-MASQ\n"
    '-A POSTROUTING -s 10.89.7.2/32 -m comment --comment "name: \\"orch-t-p\\" '
    'id: \\"p-web\\"" -j CNI-9fee444fc5c7fb5a5f0bf369\n'
    '-A POSTROUTING -s 10.89.7.3/32 -m comment --comment "name: \\"orch-t-p\\" '
    'id: \\"p-web-2\\"" -j CNI-0000444fc5c7fb5a5f0bf369\n'
)


def test_the_containers_rule_is_deleted_and_its_chain_flushed_and_deleted() -> None:
    assert leftover_commands(RULES, "orch-t-p", "p-web") == [
        [
            "-D",
            "POSTROUTING",
            "-s",
            "10.89.7.2/32",
            "-m",
            "comment",
            "--comment",
            'name: "orch-t-p" id: "p-web"',
            "-j",
            "CNI-9fee444fc5c7fb5a5f0bf369",
        ],
        ["-F", "CNI-9fee444fc5c7fb5a5f0bf369"],
        ["-X", "CNI-9fee444fc5c7fb5a5f0bf369"],
    ]


def test_nothing_of_another_container_or_network_is_touched() -> None:
    assert leftover_commands(RULES, "orch-t-q", "p-web") == []
    assert leftover_commands(RULES, "orch-t-p", "p-db") == []
