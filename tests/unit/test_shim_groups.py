"""One shim per project: the group's name, its socket as containerd 1.6 computes it, and
whom a shim serves, told from its socket; read from a /proc built in a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.drivers.containerd.host_probe import shim_facts, shim_processes
from reconciler.drivers.containerd.shim_groups import (
    SOCKET_DIR,
    project_group,
    shim_socket,
    whom_it_serves,
)
from reconciler.model.shim_facts import ShimFact

ADDRESS = "/run/containerd/containerd.sock"
NS = "orch"


def test_the_socket_is_containerds_hash_of_address_namespace_and_group() -> None:
    # Measured: `ctr run --label io.containerd.runc.v2.group=g1` on a daemon at this
    # address gave the shim /run/containerd/s/7185a274...
    assert shim_socket("/tmp/shimx/ctd/containerd.sock", "shimx", "g1") == (
        f"{SOCKET_DIR}/7185a274dfe3d1a6724a65262595a2ad4070802e6969db31063b13926ad04412"
    )


def test_the_address_is_joined_and_cleaned_as_go_does() -> None:
    plain = shim_socket("/run/containerd/containerd.sock", NS, "g")
    assert shim_socket("//run/containerd//containerd.sock/", NS, "g") == plain
    assert shim_socket("/run/containerd/x/../containerd.sock", NS, "g") == plain


def test_a_projects_group_is_a_lane_never_a_container_id() -> None:
    assert project_group("demo", "web") == "orch/demo/0"
    lanes = {project_group("demo", f"s{i}", lanes=4) for i in range(40)}
    assert lanes == {f"orch/demo/{lane}" for lane in range(4)}
    assert project_group("demo", "web", lanes=4) == project_group("demo", "web", lanes=4)
    assert shim_socket(ADDRESS, NS, project_group("a-b")) != shim_socket(ADDRESS, NS, "a-b")


def serves(started_for: str, socket: str | None) -> ShimFact:
    return whom_it_serves(
        pid=7, started_for=started_for, socket=socket, namespace=NS, address=ADDRESS
    )


def test_a_shim_on_its_containers_socket_serves_that_container_alone() -> None:
    fact = serves("demo-web", shim_socket(ADDRESS, NS, "demo-web"))
    assert (fact.container_id, fact.project) == ("demo-web", None)


def test_a_shim_on_a_groups_socket_serves_the_project_even_with_dashes_in_its_name() -> None:
    for project, first in (("demo", "demo-web"), ("my-app", "my-app-web-1"), ("a-b", "a-b-c")):
        group = project_group(project, first, lanes=3)
        fact = serves(first, shim_socket(ADDRESS, NS, group))
        assert (fact.container_id, fact.project, fact.started_for) == (None, project, first)


def test_a_shim_of_another_group_serves_nobody_of_ours() -> None:
    fact = serves("demo-web", shim_socket(ADDRESS, NS, "pod-1234"))
    assert (fact.container_id, fact.project) == (None, None)


def test_a_shim_whose_socket_is_not_seen_is_taken_as_its_containers() -> None:
    assert serves("demo-web", None).container_id == "demo-web"


class FakeProc:
    """A /proc with shim processes: argv, fds, a network namespace and its unix table."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        self.table = ["Num       RefCount Protocol Flags    Type St Inode Path"]

    def process(self, pid: int, argv: list[str], sockets: dict[int, str | None]) -> None:
        """`sockets`: inode -> the path its table line shows (None: an unnamed socket)."""
        directory = self.root / str(pid)
        (directory / "fd").mkdir(parents=True)
        (directory / "ns").mkdir()
        (directory / "net").mkdir()
        (directory / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
        os.symlink("net:[4026531840]", directory / "ns" / "net")
        os.symlink("/dev/null", directory / "fd" / "0")
        for fd, (inode, path) in enumerate(sockets.items(), start=3):
            os.symlink(f"socket:[{inode}]", directory / "fd" / str(fd))
            line = f"0000: 00000002 00000000 00010000 0001 01 {inode}"
            self.table.append(f"{line} {path}" if path else line)
        for entry in self.root.iterdir():
            (entry / "net" / "unix").write_text("\n".join(self.table) + "\n")


def shim_argv(started_for: str, namespace: str = NS) -> list[str]:
    return [
        "/usr/bin/containerd-shim-runc-v2",
        "-namespace", namespace,
        "-id", started_for,
        "-address", ADDRESS,
    ]  # fmt: skip


def test_shims_are_read_from_proc_and_told_apart_by_their_sockets(tmp_path: Path) -> None:
    proc = FakeProc(tmp_path / "proc")
    group = shim_socket(ADDRESS, NS, project_group("demo"))
    proc.process(10, shim_argv("demo-gone"), {101: None, 102: group, 103: group})
    proc.process(11, shim_argv("old-web"), {111: shim_socket(ADDRESS, NS, "old-web")})
    proc.process(12, shim_argv("demo-web", namespace="elsewhere"), {121: group})
    proc.process(13, ["/usr/bin/containerd", "-id", "demo-web"], {})

    assert sorted((s.pid, s.started_for) for s in shim_processes(NS, ADDRESS, proc=proc.root)) == [
        (10, "demo-gone"),
        (11, "old-web"),
    ]
    assert sorted(shim_facts(NS, ADDRESS, proc=proc.root), key=lambda s: s.pid) == [
        ShimFact(pid=10, started_for="demo-gone", project="demo"),
        ShimFact(pid=11, started_for="old-web", container_id="old-web"),
    ]
