"""Whether a container's published host ports are free, asked before anything is made.

portmap maps a port with NAT rules and holds no socket, so two checks are needed:
* a process of the host listening there: binding the address and port says so (and the
  kernel refuses an address that is not one of the host's);
* another container's mapping (of any CNI user: ours, nerdctl's, podman's): the rules
  portmap writes in `CNI-HOSTPORT-DNAT` name the container and list its ports.
"""

from __future__ import annotations

import errno
import re
import socket
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.model.desired import PublishedPort

DNAT_CHAIN: Final = "CNI-HOSTPORT-DNAT"
_DNAT_RULE: Final = re.compile(
    r'--comment "dnat name: \\"(?P<network>[^"\\]*)\\" id: \\"(?P<id>[^"\\]*)\\"".*'
    r"--dports? (?P<ports>[0-9,:]+)"
)


@dataclass(frozen=True, kw_only=True)
class MappedPorts:
    """The host ports one container's portmap rules take."""

    network: str
    container_id: str
    ports: frozenset[int]


def mapped_ports(rules: str) -> list[MappedPorts]:
    """Parse `iptables -t nat -S CNI-HOSTPORT-DNAT`."""
    found = []
    for line in rules.splitlines():
        if (match := _DNAT_RULE.search(line)) is None:
            continue
        ports: set[int] = set()
        for part in match["ports"].split(","):
            low, _, high = part.partition(":")
            ports.update(range(int(low), int(high or low) + 1))
        found.append(
            MappedPorts(network=match["network"], container_id=match["id"], ports=frozenset(ports))
        )
    return found


def read_mappings() -> list[MappedPorts] | None:
    """Every container's mapped ports on this host; None when iptables cannot be asked."""
    try:
        done = subprocess.run(
            ["iptables", "-w", "-t", "nat", "-S", DNAT_CHAIN],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    if done.returncode != 0:
        return [] if "No chain" in done.stderr or "does not exist" in done.stderr else None
    return mapped_ports(done.stdout)


def port_problems(
    ports: Iterable[PublishedPort],
    *,
    container_id: str,
    mappings: Iterable[MappedPorts] | None,
) -> list[str]:
    """Why each port cannot be published now, one line each; empty when all are free."""
    problems = []
    taken = {
        port: mapping
        for mapping in mappings or ()
        if mapping.container_id != container_id
        for port in mapping.ports
    }
    for port in ports:
        if (mapping := taken.get(port.host)) is not None:
            problems.append(
                f"host port {port.host} is already published for container "
                f"'{mapping.container_id}' (network {mapping.network})"
            )
            continue
        if (problem := _bind_problem(port)) is not None:
            problems.append(problem)
    return problems


def _bind_problem(port: PublishedPort) -> str | None:
    address = port.address if port.address not in (None, "", "::") else "0.0.0.0"
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((address, port.host))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            holder = _listener(port.host)
            return f"host port {port.host} is in use{f' by {holder}' if holder else ''}"
        if error.errno == errno.EADDRNOTAVAIL:
            return f"{address} is not an address of this host"
        return f"host port {port.host} on {address}: {error.strerror or error}"
    finally:
        probe.close()
    return None


def _listener(port: int) -> str | None:
    """`pid 42 (nginx)` of a process listening on `port`, when /proc tells."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(fields[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if fd.readlink().as_posix() in wanted:
                    name = (proc / "comm").read_text().strip()
                    return f"pid {proc.name} ({name})"
        except OSError:
            continue
    return None
