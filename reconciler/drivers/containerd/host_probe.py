"""What the host shows of containerd's work: shim processes, rootfs mounts, cgroups.

containerd's API does not list shims, mounts or cgroups, yet these are exactly what leaks
when a teardown goes wrong (docs/containerd.md, "What the API
does not show"). This module reads them from `/proc` and
`/sys/fs/cgroup`, keyed by namespace and container id (a shim by whom it serves: one
container, or a project's group, see `shim_groups`), without touching anything.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.drivers.containerd.shim_groups import SOCKET_DIR, whom_it_serves
from reconciler.model.shim_facts import ShimFact

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


@dataclass(frozen=True, kw_only=True)
class ShimProcess:
    """A shim of the namespace and the container its task was started for (`-id`)."""

    pid: int
    started_for: str


def shim_processes(namespace: str, socket: str, *, proc: Path = PROC) -> list[ShimProcess]:
    """Shims serving `namespace` for the daemon at `socket`, from their argv alone."""
    found = []
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        argv = _argv(pid_dir)
        if not argv or not argv[0].endswith(SHIM_BINARY):
            continue
        if _flag(argv, "-namespace") != namespace or _flag(argv, "-address") != socket:
            continue
        started_for = _flag(argv, "-id")
        if started_for is not None:
            found.append(ShimProcess(pid=int(pid_dir.name), started_for=started_for))
    return found


def shim_facts(namespace: str, socket: str, *, proc: Path = PROC) -> tuple[ShimFact, ...]:
    """The namespace's shims and whom each serves, told by the socket it listens on
    (`shim_groups`): a shim shared by a project's containers keeps the `-id` of the
    first, gone or not. Reading a shim's sockets needs root, as its `fd` folder is its
    owner's: without it, `PermissionError`."""
    paths = _SocketPaths(proc)
    return tuple(
        whom_it_serves(
            pid=shim.pid,
            started_for=shim.started_for,
            socket=paths.listening(shim.pid),
            namespace=namespace,
            address=socket,
        )
        for shim in shim_processes(namespace, socket, proc=proc)
    )


class _SocketPaths:
    """The shim socket a process holds: its fds' socket inodes, named in the
    `net/unix` table of its network namespace (read once per namespace)."""

    def __init__(self, proc: Path) -> None:
        self._proc = proc
        self._tables: dict[str, dict[str, str]] = {}

    def listening(self, pid: int) -> str | None:
        """The path under containerd's shim socket folder of the first socket the process
        holds there (its listener and the connections it accepted share the path);
        None when it holds none or has exited."""
        pid_dir = self._proc / str(pid)
        try:
            names = self._table(pid_dir)
            fds = sorted(os.listdir(pid_dir / "fd"), key=int)
        except (FileNotFoundError, ProcessLookupError):
            return None  # it exited meanwhile
        for fd in fds:
            try:
                target = os.readlink(pid_dir / "fd" / fd)
            except (FileNotFoundError, ProcessLookupError):
                continue
            if target.startswith("socket:[") and (path := names.get(target[8:-1])):
                return path
        return None

    def _table(self, pid_dir: Path) -> dict[str, str]:
        network = os.readlink(pid_dir / "ns" / "net")
        if network not in self._tables:
            self._tables[network] = _unix_socket_paths((pid_dir / "net" / "unix").read_text())
        return self._tables[network]


def _unix_socket_paths(table: str) -> dict[str, str]:
    """Inode -> path of the shim sockets in a `/proc/net/unix` table
    (`Num RefCount Protocol Flags Type St Inode Path`)."""
    found = {}
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) == 8 and fields[7].startswith(f"{SOCKET_DIR}/"):
            found[fields[6]] = fields[7]
    return found


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
