"""Counting what a stack leaves on the host and in containerd, from outside the product.

The reliability suite compares these counts before and after many cycles. Everything is
read with containerd's own `ctr` and from `/proc` and cgroupfs, never through the
reconciler, so a counting bug cannot hide a product bug. Counts are per namespace (the
test's own), so other tests and the host's containerd do not disturb them.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CGROUP_ROOT = Path("/sys/fs/cgroup")
SHIM = b"containerd-shim-runc-v2"

Ctr = Callable[..., str]


@dataclass(frozen=True, kw_only=True)
class Census:
    """Every count the suite requires back at baseline; compare with ``==``."""

    containers: int
    tasks: int
    active_snapshots: int
    leases: int
    shims: int
    rootfs_mounts: int
    cgroups: int
    open_fds: int
    asyncio_tasks: int
    threads: int

    def differences(self, other: Census) -> dict[str, tuple[int, int]]:
        return {
            name: (getattr(self, name), getattr(other, name))
            for name in self.__dataclass_fields__
            if getattr(self, name) != getattr(other, name)
        }


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def shim_pids(namespace: str) -> list[int]:
    """Shims serving any container of `namespace` (their argv names it)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(SHIM) and namespace.encode() in argv:
            found.append(int(entry.name))
    return sorted(found)


def rootfs_mounts(namespace: str) -> list[str]:
    marker = f"/{namespace}/"
    return [
        line.split()[4]
        for line in (PROC / "self" / "mountinfo").read_text().splitlines()
        if marker in line.split()[4] and line.split()[4].endswith("/rootfs")
    ]


def container_cgroups(namespace: str) -> list[Path]:
    """Cgroups of containers in `namespace`, in every hierarchy (v1 and v2 layouts)."""
    parents = [CGROUP_ROOT / namespace, *CGROUP_ROOT.glob(f"*/{namespace}")]
    return sorted(
        child
        for parent in parents
        if parent.is_dir()
        for child in parent.iterdir()
        if child.is_dir()
    )


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def live_asyncio_tasks() -> int:
    """Tasks not done, on any loop: `asyncio.run` closed its loop, so a survivor is a leak."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, asyncio.Task) and not obj.done())


def take(ctr: Ctr, namespace: str) -> Census:
    # Closed-but-unreferenced objects (a channel, a loop) release their fds on collection.
    gc.collect()
    snapshots = [row.split() for row in _lines(ctr("snapshots", "ls"))[1:]]
    return Census(
        containers=len(_lines(ctr("containers", "ls", "-q"))),
        tasks=len(_lines(ctr("tasks", "ls", "-q"))),
        active_snapshots=sum(1 for row in snapshots if row[-1] != "Committed"),
        leases=len(_lines(ctr("leases", "ls", "-q"))),
        shims=len(shim_pids(namespace)),
        rootfs_mounts=len(rootfs_mounts(namespace)),
        cgroups=len(container_cgroups(namespace)),
        open_fds=open_fds(),
        asyncio_tasks=live_asyncio_tasks(),
        threads=threading.active_count(),
    )
