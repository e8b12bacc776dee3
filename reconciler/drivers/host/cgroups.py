"""A cgroup per host service: where its limits apply and how all of it is found and killed.

A service's processes can leave its session and process group (`setsid`, a daemon's
double fork); they cannot leave its cgroup. So the cgroup is what guarantees that a stop
leaves nothing, and what carries MEMORY, CPUS, TASKS_MAX and IO_WEIGHT.

- cgroup v2 (`/sys/fs/cgroup/cgroup.controllers` exists): one directory
  `/sys/fs/cgroup/reconciler/<namespace>/<unit id>`, with the controllers enabled down
  the path; killed with `cgroup.kill` where the kernel has it.
- cgroup v1 (also the hybrid layout, whose v2 tree has no controllers): the same path
  under each of the `memory`, `cpu`, `pids`, `blkio` and `freezer` hierarchies that is
  mounted; killed by freezing, SIGKILLing every member, thawing (a frozen group cannot
  fork away from the kill).

CPUS becomes a CFS quota over a 100 ms period; IO_WEIGHT is written only when it is not
the default 100. A limit that cannot be applied (not root, no cgroup filesystem, a
missing controller or file) is reported by name and reason, never silently dropped.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.model.desired import DEFAULT_IO_WEIGHT, ResourceLimits
from reconciler.model.limits import CPU_PERIOD_US, MIN_CPU_QUOTA_US

CGROUP_ROOT: Final = Path("/sys/fs/cgroup")
PARENT: Final = "reconciler"
V1_CONTROLLERS: Final = ("memory", "cpu", "pids", "blkio", "freezer")
V2_CONTROLLERS: Final = ("memory", "cpu", "pids", "io")


@dataclass(frozen=True, kw_only=True)
class CgroupLayout:
    """What the host offers: `version` 2, 1, or None (no usable cgroup filesystem)."""

    version: int | None
    root: Path
    controllers: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class LimitWrite:
    """One limit as a value for the first existing file of `files` in `controller`'s
    directory (`""` on v2, where there is one directory)."""

    limit: str
    controller: str
    files: tuple[str, ...]
    value: str


@dataclass(frozen=True, kw_only=True)
class CgroupSetup:
    paths: tuple[Path, ...]
    unapplied: tuple[str, ...]


def detect(root: Path = CGROUP_ROOT, *, euid: int | None = None) -> CgroupLayout:
    if (os.geteuid() if euid is None else euid) != 0:
        return CgroupLayout(version=None, root=root, reason="the reconciler does not run as root")
    if (root / "cgroup.controllers").exists():
        return CgroupLayout(version=2, root=root, controllers=V2_CONTROLLERS)
    mounted = tuple(c for c in V1_CONTROLLERS if (root / c / "cgroup.procs").exists())
    if not mounted:
        return CgroupLayout(version=None, root=root, reason=f"no cgroup filesystem at {root}")
    return CgroupLayout(version=1, root=root, controllers=mounted)


def unit_paths(layout: CgroupLayout, namespace: str, unit_id: str) -> dict[str, Path]:
    """The unit's cgroup directory per controller (`""` on v2)."""
    match layout.version:
        case 2:
            return {"": layout.root / PARENT / namespace / unit_id}
        case 1:
            return {c: layout.root / c / PARENT / namespace / unit_id for c in layout.controllers}
    return {}


def limit_writes(version: int, limits: ResourceLimits) -> list[LimitWrite]:
    """The files to write for `limits` on cgroup `version`, in order."""
    v1 = version == 1
    writes = []
    if limits.memory_bytes is not None:
        writes.append(
            LimitWrite(
                limit="memory",
                controller="memory" if v1 else "",
                files=("memory.limit_in_bytes",) if v1 else ("memory.max",),
                value=str(limits.memory_bytes),
            )
        )
    if limits.cpus is not None:
        quota = max(MIN_CPU_QUOTA_US, round(limits.cpus * CPU_PERIOD_US))
        if v1:
            writes.append(LimitWrite(limit="cpus", controller="cpu", files=("cpu.cfs_period_us",),
                                     value=str(CPU_PERIOD_US)))  # fmt: skip
            writes.append(LimitWrite(limit="cpus", controller="cpu", files=("cpu.cfs_quota_us",),
                                     value=str(quota)))  # fmt: skip
        else:
            writes.append(LimitWrite(limit="cpus", controller="", files=("cpu.max",),
                                     value=f"{quota} {CPU_PERIOD_US}"))  # fmt: skip
    if limits.tasks_max is not None:
        writes.append(
            LimitWrite(
                limit="tasks-max",
                controller="pids" if v1 else "",
                files=("pids.max",),
                value=str(limits.tasks_max),
            )
        )
    if limits.io_weight != DEFAULT_IO_WEIGHT:
        weight = str(limits.io_weight)
        writes.append(
            LimitWrite(
                limit="io-weight",
                controller="blkio",
                files=("blkio.weight", "blkio.bfq.weight"),
                value=weight,
            )
            if v1
            else LimitWrite(
                limit="io-weight",
                controller="",
                files=("io.weight", "io.bfq.weight"),
                value=f"default {weight}",
            )
        )
    return writes


def requested_limits(limits: ResourceLimits) -> list[str]:
    return sorted({write.limit for write in limit_writes(2, limits)})


def setup(
    layout: CgroupLayout, namespace: str, unit_id: str, limits: ResourceLimits
) -> CgroupSetup:
    """Create the unit's cgroups and write its limits; what could not be applied and why."""
    if layout.version is None:
        return CgroupSetup(
            paths=(),
            unapplied=tuple(f"{name}: {layout.reason}" for name in requested_limits(limits)),
        )
    paths = unit_paths(layout, namespace, unit_id)
    made: dict[str, Path] = {}
    unapplied: list[str] = []
    for controller, path in paths.items():
        try:
            if layout.version == 2:
                _enable_controllers(layout.root, path)
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            unapplied.append(f"cgroup {path}: {error.strerror or error}")
            continue
        made[controller] = path
    for write in limit_writes(layout.version, limits):
        directory = made.get(write.controller)
        if directory is None:
            unapplied.append(f"{write.limit}: no {write.controller or 'cgroup'} hierarchy")
            continue
        target = next((directory / f for f in write.files if (directory / f).exists()), None)
        if target is None:
            unapplied.append(f"{write.limit}: the kernel offers no {write.files[0]}")
            continue
        try:
            target.write_text(write.value)
        except OSError as error:
            unapplied.append(f"{write.limit}: {target.name}: {error.strerror or error}")
    return CgroupSetup(paths=tuple(made.values()), unapplied=tuple(dict.fromkeys(unapplied)))


def _enable_controllers(root: Path, leaf: Path) -> None:
    """Enable the controllers we use in every ancestor of `leaf` below and at `root`."""
    directory = root
    for part in leaf.relative_to(root).parts[:-1]:
        available = set((directory / "cgroup.controllers").read_text().split())
        wanted = " ".join(f"+{c}" for c in V2_CONTROLLERS if c in available)
        if wanted:
            with contextlib.suppress(OSError):
                (directory / "cgroup.subtree_control").write_text(wanted)
        directory = directory / part
        directory.mkdir(exist_ok=True)


def members(paths: Sequence[Path]) -> set[int]:
    found: set[int] = set()
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            found.update(int(line) for line in (path / "cgroup.procs").read_text().split())
    return found


def kill_pass(paths: Sequence[Path]) -> None:
    """SIGKILL every process in the cgroups, once (call until `members` is empty)."""
    for path in paths:
        if (path / "cgroup.kill").exists():
            with contextlib.suppress(FileNotFoundError):
                (path / "cgroup.kill").write_text("1")
                return
    freezer = next((p for p in paths if (p / "freezer.state").exists()), None)
    _freeze(freezer, frozen=True)
    try:
        for pid in members(paths):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    finally:
        _freeze(freezer, frozen=False)


def _freeze(path: Path | None, *, frozen: bool) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            (path / "freezer.state").write_text("FROZEN" if frozen else "THAWED")


def remove(paths: Sequence[Path]) -> list[str]:
    """Remove the unit's cgroup directories (and its namespace's, once empty); the ones
    that could not be removed, with the reason."""
    failed = []
    for path in paths:
        try:
            path.rmdir()
        except FileNotFoundError:
            pass
        except OSError as error:
            failed.append(f"{path}: {error.strerror or error}")
            continue
        try:
            path.parent.rmdir()
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EBUSY, errno.ENOENT):
                raise
    return failed


def unit_cgroups(namespace: str, *, root: Path = CGROUP_ROOT) -> dict[str, list[Path]]:
    """Every host unit's cgroup under `reconciler/<namespace>/<unit id>`, in every mounted
    hierarchy (v1: each controller; v2: the one), by unit id: for `leak-check`."""
    found: dict[str, list[Path]] = {}
    hierarchies = [root] if (root / "cgroup.controllers").exists() else list(root.iterdir())
    for hierarchy in hierarchies:
        parent = hierarchy / PARENT / namespace
        if not parent.is_dir():
            continue
        for child in parent.iterdir():
            if child.is_dir():
                found.setdefault(child.name, []).append(child)
    return found
