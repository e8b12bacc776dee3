"""The /etc/hosts of a project and the resolv.conf its containers can use."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from reconciler.drivers.containerd.network.hosts import (
    render,
    resolv_conf,
    write_if_changed,
    write_in_place,
)

IP = ipaddress.IPv4Address


def test_every_service_by_name_and_qualified_and_the_host_by_its_name() -> None:
    text = render("demo", {"web": IP("10.89.0.3"), "api": IP("10.89.0.2")}, IP("10.89.0.1"))
    lines = text.splitlines()
    assert lines[0].startswith("# Written by reconciler")
    assert "127.0.0.1\tlocalhost" in lines
    assert lines[-3:] == [
        "10.89.0.1\thost.orch.internal",
        "10.89.0.2\tapi api.demo",
        "10.89.0.3\tweb web.demo",
    ]


def test_rewriting_keeps_the_inode_a_bind_mount_holds(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    write_in_place(path, "a long first version\n")
    inode = path.stat().st_ino
    write_in_place(path, "short\n")
    assert path.read_text() == "short\n"
    assert path.stat().st_ino == inode


def test_an_unchanged_file_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    write_if_changed(path, "same\n")
    os.utime(path, (0, 0))
    write_if_changed(path, "same\n")
    assert path.stat().st_mtime == 0


def test_a_host_resolv_conf_without_loopback_servers_is_used_as_it_is() -> None:
    assert resolv_conf("nameserver 10.255.255.53\nsearch example.org\n") is None


def test_loopback_nameservers_are_dropped_for_containers() -> None:
    host = "nameserver 127.0.0.53\nnameserver ::1\nnameserver 192.0.2.53\noptions edns0\n"
    assert resolv_conf(host) == "nameserver 192.0.2.53\noptions edns0\n"
