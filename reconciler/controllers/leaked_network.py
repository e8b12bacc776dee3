"""Which of the project network's objects `leak-check` counts: network namespaces, veths,
IPAM allocations, port mappings and bridges. Pure.

Why apart: these are what a container's attachment made (docs/networks.md), found on the
host by name, file or rule comment rather than through containerd, and held by a
container *record*, not a task: a stopped container keeps its namespace and address (a
restart keeps the address). Class by class:

- network-namespaces, veths, ipam-allocations, port-mappings: named by the container id
  (in the namespace's name, in the attachment record that lists the veth, in
  host-local's file, in the rules' comments): leaked when the id is the project's and no
  container record holds it. A port of a project's bridge that no attachment record
  lists, and an address file that names no container, are leaked as they are: nothing
  can account for them. (An attach runs before its container record is created: as with
  snapshots, a create in progress shows for a moment.)
- bridges: a project's bridge that no existing container holds an attachment on (the
  last detach deletes it).
"""

from __future__ import annotations

from collections.abc import Iterable, Set

from reconciler.controllers.leak_owners import Owners
from reconciler.model import labels
from reconciler.model.leaks import LeakedItem
from reconciler.model.network_facts import (
    BridgeFact,
    IpamAllocation,
    NatRules,
    NetnsFact,
    VethFact,
)
from reconciler.model.observed import RuntimeFacts


def _container_ids(runtime: RuntimeFacts) -> set[str]:
    return {container.id for container in runtime.containers}


def _has_containers(runtime: RuntimeFacts, project: str) -> bool:
    return any(
        labels.is_ours(c.labels) and c.labels.get(labels.PROJECT) == project
        for c in runtime.containers
    )


def _unheld(owners: Owners, existing: Set[str], container_id: str) -> bool:
    """A network object made for `container_id`, of a project in scope, that no container
    record holds: a leak."""
    return container_id not in existing and owners.of_id(container_id)


def network_namespaces(
    owners: Owners, runtime: RuntimeFacts, namespaces: Iterable[NetnsFact]
) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    return [
        LeakedItem(id=ns.name, detail=f"of {ns.container_id}; no container")
        for ns in namespaces
        if _unheld(owners, existing, ns.container_id)
    ]


def veths(owners: Owners, runtime: RuntimeFacts, seen: Iterable[VethFact]) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    found = []
    for veth in seen:
        if veth.container_id is None:
            if owners.in_scope(veth.project):
                detail = f"on bridge {veth.bridge}; no attachment record lists it"
                found.append(LeakedItem(id=veth.name, detail=detail))
        elif _unheld(owners, existing, veth.container_id):
            detail = f"of {veth.container_id} on bridge {veth.bridge}; no container"
            found.append(LeakedItem(id=veth.name, detail=detail))
    return found


def ipam_allocations(
    owners: Owners, runtime: RuntimeFacts, allocations: Iterable[IpamAllocation]
) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    found = []
    for allocation in allocations:
        if allocation.container_id is None:
            if owners.in_scope(allocation.project):
                detail = f"{allocation.address}; the file names no container"
                found.append(LeakedItem(id=str(allocation.path), detail=detail))
        elif _unheld(owners, existing, allocation.container_id):
            detail = f"{allocation.address} of {allocation.container_id}; no container"
            found.append(LeakedItem(id=str(allocation.path), detail=detail))
    return found


def port_mappings(
    owners: Owners, runtime: RuntimeFacts, rules: Iterable[NatRules]
) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    found = []
    for group in rules:
        if not group.container_id:
            if owners.in_scope(group.project) and not _has_containers(runtime, group.project):
                detail = f"masquerading rule of network {group.network}; no container"
                found.append(LeakedItem(id=group.network, detail=detail))
            continue
        if not _unheld(owners, existing, group.container_id):
            continue
        chains = f", chains {', '.join(group.chains)}" if group.chains else ""
        detail = (
            f"{group.rules} nat {_plural(group.rules, 'rule')} of network {group.network}"
            f"{chains}; no container"
        )
        found.append(LeakedItem(id=group.container_id, detail=detail))
    return found


def bridges(owners: Owners, runtime: RuntimeFacts, seen: Iterable[BridgeFact]) -> list[LeakedItem]:
    existing = _container_ids(runtime)
    found = []
    for bridge in seen:
        if not owners.in_scope(bridge.project) or existing.intersection(bridge.holders):
            continue
        ports = f"{bridge.interfaces} {_plural(bridge.interfaces, 'interface')}"
        detail = f"of project '{bridge.project}', {ports}; no container is attached"
        found.append(LeakedItem(id=bridge.name, detail=detail))
    return found


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else f"{noun}s"
