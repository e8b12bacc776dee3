"""Which subnet a project's network gets: one that collides with nothing. Pure choice.

Each project gets a /24 out of 10.89.0.0/16 (256 projects per host; CNI's own examples
use 10.88.0.0/16, so that one is left to them). A subnet is taken when any route of the
host overlaps it (a VPN, a docker bridge, the LAN) or another project of ours has it
recorded. The choice is recorded under the state dir by the caller, so a project keeps
its subnet across restarts and recreates.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final

POOL: Final = ipaddress.IPv4Network("10.89.0.0/16")
PREFIX: Final = 24


class NoFreeSubnet(Exception):
    """Every subnet of the pool collides with a route or another project."""


def choose_subnet(
    taken: Iterable[ipaddress.IPv4Network], *, pool: ipaddress.IPv4Network = POOL
) -> ipaddress.IPv4Network:
    """The first /24 of `pool` that overlaps none of `taken`."""
    busy = [net for net in taken if net.prefixlen > 0]  # a default route overlaps everything
    for candidate in pool.subnets(new_prefix=PREFIX):
        if not any(candidate.overlaps(net) for net in busy):
            return candidate
    raise NoFreeSubnet(f"no free /{PREFIX} left in {pool}: every one overlaps a route")


def host_routes(route_table: str) -> list[tuple[str, ipaddress.IPv4Network]]:
    """(interface, destination) of each route in `/proc/net/route` (little-endian hex)."""
    routes = []
    for line in route_table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        destination = _address(fields[1])
        mask = _address(fields[7])
        try:
            network = ipaddress.IPv4Network(f"{destination}/{mask}", strict=False)
        except ValueError:
            continue
        routes.append((fields[0], network))
    return routes


def _address(little_endian_hex: str) -> ipaddress.IPv4Address:
    value = int(little_endian_hex, 16)
    return ipaddress.IPv4Address(int.from_bytes(value.to_bytes(4, "little"), "big"))
