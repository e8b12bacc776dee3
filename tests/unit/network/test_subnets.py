"""Which subnet a project network gets: the first /24 of the pool that overlaps nothing."""

from __future__ import annotations

import ipaddress

import pytest

from reconciler.drivers.containerd.network.subnets import (
    NoFreeSubnet,
    choose_subnet,
    host_routes,
)

Net = ipaddress.IPv4Network

# As this machine's /proc/net/route shows them (little-endian hex).
ROUTE_TABLE = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "orch-test0\t00C8590A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
)


def test_routes_are_read_with_their_interface() -> None:
    assert host_routes(ROUTE_TABLE) == [
        ("eth0", Net("0.0.0.0/0")),
        ("eth0", Net("192.0.2.0/24")),
        ("orch-test0", Net("10.89.200.0/24")),
    ]


def test_a_malformed_line_is_skipped() -> None:
    assert host_routes("header\nshort line\n") == []


def test_the_first_subnet_of_the_pool_when_nothing_is_taken() -> None:
    assert choose_subnet([]) == Net("10.89.0.0/24")


def test_the_default_route_does_not_take_the_whole_pool() -> None:
    assert choose_subnet([Net("0.0.0.0/0")]) == Net("10.89.0.0/24")


def test_subnets_overlapping_a_route_or_a_recorded_project_are_skipped() -> None:
    taken = [Net("10.89.0.0/23"), Net("10.89.2.128/25")]
    assert choose_subnet(taken) == Net("10.89.3.0/24")


def test_a_wider_route_over_the_pool_leaves_nothing() -> None:
    with pytest.raises(NoFreeSubnet, match=r"10\.89\.0\.0/16"):
        choose_subnet([Net("10.0.0.0/8")])
