"""What the host shows of containerd's work: shim processes, rootfs mounts, cgroups.

containerd's API does not list shims, mounts or cgroups, yet these are exactly what leaks
when a teardown goes wrong (CONTAINERD.md §7.2). This module reads them from `/proc` and
`/sys/fs/cgroup`, keyed by namespace and container id, without touching anything.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Final

SHIM_BINARY: Final = "containerd-shim-runc-v2"
PROC: Final = Path("/proc")
CGROUP_ROOT: Final = Path("/sys/fs/cgroup")


def _argv(pid_dir: Path) -> list[str]:
    try:
        raw = (pid_dir / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _flag(argv: list[str], name: str) -> str | None:
    try:
        return argv[argv.index(name) + 1]
    except (ValueError, IndexError):
        return None


def shim_processes(namespace: str, socket: str, *, proc: Path = PROC) -> dict[str, list[int]]:
    """Shim pids serving `namespace` for the daemon at `socket`, by container id."""
    found: dict[str, list[int]] = defaultdict(list)
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        argv = _argv(pid_dir)
        if not argv or not argv[0].endswith(SHIM_BINARY):
            continue
        if _flag(argv, "-namespace") != namespace or _flag(argv, "-address") != socket:
            continue
        container_id = _flag(argv, "-id")
        if container_id is not None:
            found[container_id].append(int(pid_dir.name))
    return dict(found)


def rootfs_mounts(namespace: str, *, mountinfo: Path = PROC / "self" / "mountinfo") -> list[str]:
    """Mount points of container root filesystems in `namespace` (`.../<ns>/<id>/rootfs`)."""
    marker = f"/io.containerd.runtime.v2.task/{namespace}/"
    points = []
    for line in mountinfo.read_text().splitlines():
        fields = line.split()
        if len(fields) > 4 and marker in fields[4] and "/rootfs" in fields[4]:
            points.append(fields[4])
    return points


def container_cgroups(namespace: str, *, root: Path = CGROUP_ROOT) -> dict[str, list[Path]]:
    """Container cgroups under `/<namespace>/<id>` in every mounted hierarchy, by id."""
    found: dict[str, list[Path]] = defaultdict(list)
    hierarchies = [root] if (root / "cgroup.controllers").exists() else list(root.iterdir())
    for hierarchy in hierarchies:
        parent = hierarchy / namespace
        if not parent.is_dir():
            continue
        for child in parent.iterdir():
            if child.is_dir():
                found[child.name].append(child)
    return dict(found)


def oom_killed(namespace: str, container_id: str, *, root: Path = CGROUP_ROOT) -> bool:
    """Whether the kernel's OOM killer struck in the container's memory cgroup. Its
    counter outlives the killed process until the task is deleted, so a stopped task
    tells whether its exit (137, SIGKILL) was the kernel's for memory."""
    unified = (root / "cgroup.controllers").exists()
    directory = root / namespace / container_id if unified else root / "memory" / namespace
    counters = (
        directory / "memory.events" if unified else directory / container_id / "memory.oom_control"
    )
    try:
        text = counters.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill":
            return value.strip().isdigit() and int(value) > 0
    return False
