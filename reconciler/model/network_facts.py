"""What the host shows of the projects' networks, for the leak decision.

Gathered by `reconciler.drivers.containerd.network.census` (it reads /run/netns,
/sys/class/net, host-local's files and iptables), judged by
`reconciler.controllers.leaked_network` against containerd's listing. They live in the
model so that the judge can read them without importing a driver. Each fact names the
container it was made for when the host says so; `container_id=None` is an object of our
network that nothing names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class NetnsFact:
    """One of our network namespaces under /run/netns (`orch-<namespace>--<id>`)."""

    name: str
    container_id: str


@dataclass(frozen=True, kw_only=True)
class VethFact:
    """An interface enslaved to a project's bridge (the host end of a container's veth);
    its container is the one whose attachment record lists it."""

    name: str
    bridge: str
    project: str
    container_id: str | None


@dataclass(frozen=True, kw_only=True)
class IpamAllocation:
    """An address host-local handed out: a file named as the address under the project's
    IPAM dir, holding the container id."""

    path: Path
    address: str
    project: str
    container_id: str | None


@dataclass(frozen=True, kw_only=True)
class NatRules:
    """The iptables nat rules of one container on one of our networks (portmap's DNAT),
    or, with an empty `container_id`, the network's own masquerading rule (its `project`
    named), found by their comments."""

    network: str
    container_id: str
    rules: int
    # The container's own chains (CNI-DN-...), which hold more, uncommented rules.
    chains: tuple[str, ...] = ()
    project: str = ""


@dataclass(frozen=True, kw_only=True)
class BridgeFact:
    """A project's bridge that exists, how many interfaces it has, and the containers
    whose attachment records name it."""

    name: str
    project: str
    interfaces: int
    holders: tuple[str, ...] = ()
