"""A project's bridge: its subnet chosen under a host-wide lock, then created at once.

Why the reconciler makes the bridge itself (the bridge plugin would make it on the first
ADD): the choice of a subnet must be atomic across every reconciler on the host, whatever
its state dir. Under one host lock, a subnet is chosen against the host's routes and the
subnets recorded by the projects of this state dir, and the bridge is created with its
gateway address before the lock is released; from then on its route marks the subnet
taken for everyone. The plugin then finds the bridge and its address as it wants them.
The project's masquerading rule (`nat`) is made with the bridge and removed with it.

The host lock is `/run/reconciler/networks.lock`, 0600 in a 0700 directory reached
without following a link: a lock file another user could open is one they could hold,
stopping every project network from being made (SECURITY.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import os
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from reconciler.drivers.containerd.network import nat
from reconciler.drivers.containerd.network.config import ProjectNetwork, bridge_name
from reconciler.drivers.containerd.network.records import NetworkRecords
from reconciler.drivers.containerd.network.subnets import NoFreeSubnet, choose_subnet, host_routes
from reconciler.errors import MissingBinary, RuntimeFailure
from reconciler.statedir.tree import open_directory, open_private_file

HOST_LOCK: Final = Path("/run/reconciler/networks.lock")
ROUTES: Final = Path("/proc/net/route")
SYS_NET: Final = Path("/sys/class/net")


def exists(bridge: str) -> bool:
    return (SYS_NET / bridge / "bridge").is_dir()


def ensure_bridge(
    records: NetworkRecords,
    *,
    namespace: str,
    project: str,
    other_records: Iterable[NetworkRecords],
) -> ProjectNetwork:
    """The project's network with its bridge up (blocking: run it in a thread)."""
    recorded = records.subnet()
    if recorded is not None:
        network = records.network(namespace, project, recorded)
        if exists(network.bridge) and _bridge_subnet(network.bridge) == recorded:
            return network
    with _host_lock():
        recorded = records.subnet()
        bridge = bridge_name(namespace, project)
        if exists(bridge) and (current := _bridge_subnet(bridge)) is not None:
            subnet = current  # made earlier (the record was lost or is being rewritten)
        else:
            taken = [route for iface, route in _routes() if iface != bridge]
            taken += [s for other in other_records if (s := other.subnet()) is not None]
            if recorded is not None and not any(recorded.overlaps(t) for t in taken):
                subnet = recorded
            else:
                try:
                    subnet = choose_subnet(taken)
                except NoFreeSubnet as error:
                    raise RuntimeFailure(f"network of project '{project}': {error}") from None
        network = records.network(namespace, project, subnet)
        if subnet != recorded:
            records.save_subnet(subnet)
        if not exists(bridge):
            _create(network)
        nat.ensure_masquerade(network.name, network.subnet)
        return network


def delete_bridge(network: ProjectNetwork) -> None:
    """The bridge, then its masquerading rule (blocking: run it in a thread)."""
    if exists(network.bridge):
        _ip("link", "delete", network.bridge, "type", "bridge", tolerate="Cannot find device")
    nat.remove_masquerade(network.name)


def bridge_mac(network: ProjectNetwork) -> str:
    """A fixed, locally administered address for the bridge. Without one, a bridge takes
    the lowest address of its ports, so it changes whenever a container comes or goes,
    and the bridge plugin's CHECK of every other container fails on it."""
    digest = hashlib.sha256(f"{network.namespace}/{network.project}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))


def _create(network: ProjectNetwork) -> None:
    bridge = network.bridge
    mac = bridge_mac(network)
    _ip("link", "add", "name", bridge, "address", mac, "type", "bridge", tolerate="File exists")
    address = f"{network.gateway}/{network.subnet.prefixlen}"
    _ip("addr", "add", address, "dev", bridge, tolerate="File exists")
    _ip("link", "set", bridge, "up")


def _bridge_subnet(bridge: str) -> ipaddress.IPv4Network | None:
    for iface, route in _routes():
        if iface == bridge:
            return route
    return None


def _routes() -> list[tuple[str, ipaddress.IPv4Network]]:
    try:
        text = ROUTES.read_text()
    except OSError:
        return []
    return host_routes(text)


@contextlib.contextmanager
def _host_lock() -> Iterator[None]:
    directory = open_directory(HOST_LOCK.parent, below=HOST_LOCK.parent.parent)
    try:
        descriptor = open_private_file(directory, HOST_LOCK.name, HOST_LOCK, os.O_RDWR)
    finally:
        os.close(directory)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _ip(*args: str, tolerate: str | None = None) -> None:
    try:
        done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise MissingBinary(
            "'ip' is not installed (Debian: apt-get install iproute2), or use --network host"
        ) from None
    if done.returncode != 0 and not (tolerate and tolerate in done.stderr):
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
        raise RuntimeFailure(f"ip {' '.join(args)}: {message}")
