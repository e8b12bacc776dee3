"""What the host holds of our projects' networks, for `leak-check`. Reads, never changes.

A container's attachment makes objects outside containerd, each kept where the kernel or
a plugin keeps it, and each is looked up there rather than trusted to our records:

- its network namespace, a file under /run/netns named `orch-<namespace>--<id>`;
- the host end of its veth, a port of the project's bridge (/sys/class/net/<bridge>/brif),
  named in the attachment record's ADD result;
- its address, a file host-local writes under the project's IPAM dir, holding the id;
- iptables nat rules (portmap's DNAT, the bridge's masquerade) whose comments name the
  network and the id;
- the project's bridge itself (/sys/class/net/<bridge>/bridge).

Only the projects given are looked at, by their exact network and bridge names, so another
namespace's or another tool's objects are never read as ours. A probe that cannot look
raises `CannotLook` (iptables) or `OSError` (a directory it may not read); the caller
reports that class unchecked.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.drivers.containerd.network import netns
from reconciler.drivers.containerd.network.bridge import SYS_NET
from reconciler.drivers.containerd.network.config import bridge_name, ipam_dir, network_name
from reconciler.drivers.containerd.network.records import Attachment, NetworkRecords
from reconciler.model.network_facts import (
    BridgeFact,
    IpamAllocation,
    NatRules,
    NetnsFact,
    VethFact,
)

IPTABLES_NAT: Final = ("iptables", "-w", "-t", "nat", "-S")
_COMMENT: Final = re.compile(
    r'--comment "(?:dnat )?name: \\"(?P<network>[^"\\]*)\\" id: \\"(?P<id>[^"\\]*)\\""'
)
_MASQUERADE: Final = re.compile(r'--comment "reconciler masquerade: (?P<network>[^"]*)"')
_CHAIN: Final = re.compile(r"^-A (?P<chain>\S+)")
_TARGET: Final = re.compile(r" -j (?P<target>\S+)")
# portmap's chains shared by every container; a container's own are CNI-DN-<hash> and
# the bridge plugin's CNI-<hash>.
_SHARED_CHAINS: Final = "CNI-HOSTPORT-"


class CannotLook(Exception):
    """A probe could not look; the message says why."""


def iptables_nat_rules() -> str:
    """`iptables -S` of the nat table (blocking)."""
    try:
        done = subprocess.run(list(IPTABLES_NAT), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise CannotLook("iptables is not installed") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise CannotLook(f"iptables: {lines[-1] if lines else f'exit {done.returncode}'}")
    return done.stdout


def nat_rules(listing: str, networks: Mapping[str, str]) -> tuple[NatRules, ...]:
    """The rules of `iptables -S` whose comment names one of `networks` (network name ->
    project), per container; a network's masquerading rule under the container id ""."""
    rules: dict[tuple[str, str], int] = defaultdict(int)
    chains: dict[tuple[str, str], set[str]] = defaultdict(set)
    for line in listing.splitlines():
        comment = _COMMENT.search(line) or _MASQUERADE.search(line)
        if comment is None or comment["network"] not in networks:
            continue
        key = (comment["network"], comment.groupdict().get("id") or "")
        rules[key] += 1
        for pattern in (_CHAIN, _TARGET):
            if (found := pattern.search(line)) is not None:
                chain = found.group(1)
                if chain.startswith("CNI-") and not chain.startswith(_SHARED_CHAINS):
                    chains[key].add(chain)
    return tuple(
        NatRules(
            network=network,
            container_id=cid,
            rules=count,
            chains=tuple(sorted(chains[key])),
            project=networks[network],
        )
        for key, count in sorted(rules.items())
        for network, cid in [key]
    )


def allocation_owner(text: str) -> str | None:
    """The container id in a host-local allocation file (`<id>\\n<ifname>`)."""
    lines = text.splitlines()
    return (lines[0].strip() or None) if lines else None


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _entries(directory: Path) -> list[Path]:
    """The directory's entries, sorted; none when it was removed while we looked (a
    teardown in progress: `leak-check --settle` looks again)."""
    try:
        return sorted(directory.iterdir())
    except FileNotFoundError:
        return []


@dataclass(frozen=True, kw_only=True)
class _Bridge:
    """A project's bridge that exists, with its ports and the records naming it."""

    name: str
    project: str
    ports: tuple[str, ...]
    records: tuple[Attachment, ...]


class NetworkCensus:
    def __init__(
        self,
        *,
        namespace: str,
        networks: Mapping[str, Path],
        netns_dir: Path = netns.NETNS_DIR,
        sys_net: Path = SYS_NET,
        list_nat_rules: Callable[[], str] = iptables_nat_rules,
    ) -> None:
        """`networks` maps each project in scope to its network directory (its records)."""
        self._namespace = namespace
        self._networks = dict(networks)
        self._netns_dir = netns_dir
        self._sys_net = sys_net
        self._list_nat_rules = list_nat_rules

    def namespaces(self) -> tuple[NetnsFact, ...]:
        """Our network namespaces of this containerd namespace, whatever the project: the
        name holds no project, the container id does."""
        found = []
        for name in netns.listed(self._netns_dir):
            parsed = netns.parse_netns_name(name)
            if parsed is not None and parsed[0] == self._namespace:
                found.append(NetnsFact(name=name, container_id=parsed[1]))
        return tuple(found)

    def veths(self) -> tuple[VethFact, ...]:
        found = []
        for bridge in self._bridges():
            owners = {
                interface: record.container_id
                for record in bridge.records
                for interface in record.host_interfaces
            }
            found += [
                VethFact(
                    name=port,
                    bridge=bridge.name,
                    project=bridge.project,
                    container_id=owners.get(port),
                )
                for port in bridge.ports
            ]
        return tuple(found)

    def bridges(self) -> tuple[BridgeFact, ...]:
        return tuple(
            BridgeFact(
                name=bridge.name,
                project=bridge.project,
                interfaces=len(bridge.ports),
                holders=tuple(sorted(r.container_id for r in bridge.records)),
            )
            for bridge in self._bridges()
        )

    def ipam_allocations(self) -> tuple[IpamAllocation, ...]:
        """Every address file under each project's IPAM dir (one subdirectory per network
        name; `lock` and `last_reserved_ip.0` are not allocations)."""
        found = []
        for project, directory in sorted(self._networks.items()):
            for network_dir in (p for p in _entries(ipam_dir(directory)) if p.is_dir()):
                for path in _entries(network_dir):
                    if not _is_address(path.name):
                        continue
                    try:
                        text = path.read_text(errors="replace")
                    except FileNotFoundError:
                        continue  # released while we looked
                    found.append(
                        IpamAllocation(
                            path=path,
                            address=path.name,
                            project=project,
                            container_id=allocation_owner(text),
                        )
                    )
        return tuple(found)

    def nat_rules(self) -> tuple[NatRules, ...]:
        names = {network_name(self._namespace, project): project for project in self._networks}
        return nat_rules(self._list_nat_rules(), names)

    def _bridges(self) -> list[_Bridge]:
        """The bridges of the projects that exist: the one each project's name gives, and
        any an attachment record names (the conflist ADD was given is what counts)."""
        found = []
        for project, directory in sorted(self._networks.items()):
            records = NetworkRecords(directory).attachments()
            names = {bridge_name(self._namespace, project), *(r.bridge for r in records)}
            for name in sorted(names):
                if not (self._sys_net / name / "bridge").is_dir():
                    continue
                found.append(
                    _Bridge(
                        name=name,
                        project=project,
                        ports=tuple(p.name for p in _entries(self._sys_net / name / "brif")),
                        records=tuple(r for r in records if r.bridge == name),
                    )
                )
        return found
