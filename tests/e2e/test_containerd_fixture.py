"""The private daemon and the per-test namespace behave as the other e2e tests assume."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.containerd import NamespacedContainerd, PrivateContainerd
from tests.support.leaks import Leftover, leftovers, purge

BUSYBOX = "docker.io/library/busybox:1"
# containerd's identifier rule (identifiers/validate.go).
NAMESPACE_PATTERN = r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*"


def test_the_daemon_answers_on_its_private_socket(containerd: NamespacedContainerd) -> None:
    assert containerd.address == f"unix://{containerd.socket}"
    assert containerd.socket.is_socket()
    assert "Server:" in containerd.ctr("version")


def test_the_daemon_keeps_its_root_and_state_under_its_own_directory(
    containerd_daemon: PrivateContainerd,
) -> None:
    assert containerd_daemon.root.is_dir()
    assert containerd_daemon.state.is_dir()
    assert containerd_daemon.root.parent == containerd_daemon.socket.parent
    assert containerd_daemon.pid() is not None


def test_each_test_gets_a_valid_namespace_of_its_own(containerd: NamespacedContainerd) -> None:
    assert re.fullmatch(NAMESPACE_PATTERN, containerd.namespace)
    assert len(containerd.namespace) <= 76
    assert containerd.ctr_args == [
        "ctr",
        "--address",
        str(containerd.socket),
        "--namespace",
        containerd.namespace,
    ]


def test_a_leftover_lease_is_reported_and_purged(containerd: NamespacedContainerd) -> None:
    containerd.ctr("leases", "create", "--id", "stray-lease")

    assert leftovers(containerd.ctr) == [Leftover(kind="lease", name="stray-lease")]
    purge(containerd.ctr, containerd.namespace)
    assert leftovers(containerd.ctr) == []


def test_a_leftover_task_container_and_snapshot_are_reported_and_purged(
    containerd: NamespacedContainerd, busybox_archive: Path
) -> None:
    containerd.ctr("images", "import", str(busybox_archive))
    containerd.ctr("run", "--detach", BUSYBOX, "stray", "sleep", "1000")

    assert leftovers(containerd.ctr) == [
        Leftover(kind="task", name="stray"),
        Leftover(kind="container", name="stray"),
        Leftover(kind="active snapshot", name="stray"),
    ]
    purge(containerd.ctr, containerd.namespace)
    assert leftovers(containerd.ctr) == []
    assert containerd.ctr("images", "ls", "-q") == ""
