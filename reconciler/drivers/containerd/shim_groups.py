"""A few runc shims per project, one per lane: the group a container's spec names, the
socket that group gives the shim, and, from that socket, whom a running shim serves.
Pure except `default_lanes`, which counts the host's cores.

containerd 1.6's runc v2 shim (`runtime/v2/runc/manager/manager_linux.go`, `Start`)
reads the new task's bundle `config.json`: when the spec's *annotations* carry
`io.containerd.runc.v2.group` (else CRI's `io.kubernetes.cri.sandbox-id`), that value
instead of the container id names the shim's socket,
`/run/containerd/s/<sha256(filepath.Join(containerd address, namespace, name))>`. If a
shim already answers there, the task joins it; otherwise a new shim is started on it. A
container *label* of that name does nothing: `ctr run --label k=v` also writes every
label into the spec's annotations, which is why it seems to work.

The shim keeps the `-id` it was started with (its first container's id, the bundle it
runs in) for its whole life, serving the group's later containers after that first one
is gone; so `-id` says whom a shim was started for, and only its socket says whom it
serves.
"""

from __future__ import annotations

import enum
import hashlib
import os
import posixpath
from typing import Final

from reconciler.model.shim_facts import ShimFact

GROUP_ANNOTATION: Final = "io.containerd.runc.v2.group"
MAX_LANES: Final = 8
# containerd's `defaults.DefaultStateDir` + "/s", whatever the daemon's own state dir.
SOCKET_DIR: Final = "/run/containerd/s"


class ShimSharing(enum.Enum):
    """Which containers share a shim process."""

    PER_PROJECT = "project"  # one shim for every container of a project (the group)
    PER_CONTAINER = "container"  # containerd's default: one shim per task


def project_group(project: str, service: str = "", *, lanes: int = 1) -> str:
    """The shim group of a project's service: `orch/<project>/<lane>`, the service's lane
    one of `lanes` by a digest of its name. A '/' never appears in a container id (nor in
    a namespace or a project name), so the group's socket can never be the one an
    ungrouped container's shim listens on, ours (made before grouping) or anyone's."""
    lane = int.from_bytes(hashlib.sha256(service.encode()).digest()[:4], "big") % max(lanes, 1)
    return f"orch/{project}/{lane}"


def default_lanes() -> int:
    """Shims per project: one per core, at most MAX_LANES. A shim creates and starts its
    containers one at a time (it holds its lock for a whole `runc create`), so one shim
    for a whole project made converging 20 services 20-30 % slower here; a lane per core
    keeps the cores busy and still shares each shim among many containers."""
    return max(1, min(os.cpu_count() or 1, MAX_LANES))


def shim_socket(address: str, namespace: str, name: str) -> str:
    """The socket path containerd 1.6 gives the shim of a container id or group `name`
    (`shim.SocketAddress`, without its `unix://`). `address` is containerd's gRPC
    address as the daemon was configured with it: the shim's `-address`."""
    joined = _go_join(address, namespace, name)
    return f"{SOCKET_DIR}/{hashlib.sha256(joined.encode()).hexdigest()}"


def whom_it_serves(
    *, pid: int, started_for: str, socket: str | None, namespace: str, address: str
) -> ShimFact:
    """What the shim started for container `started_for`, listening on `socket`, serves:
    that container alone (its socket is named after the id), the group of the project
    whose containers include `started_for`, or a group that is none of ours. A shim
    whose socket could not be seen (it is shutting down) is taken as started for one
    container, as containerd would have started it without a group."""
    if socket is None or socket == shim_socket(address, namespace, started_for):
        return ShimFact(pid=pid, started_for=started_for, container_id=started_for)
    # Our container ids are `<project>-<service>` and project names are words joined by
    # '-': the project is a prefix of the first container's id ending before a '-'.
    for cut, character in enumerate(started_for):
        if character != "-":
            continue
        project = started_for[:cut]
        for lane in range(MAX_LANES):
            if socket == shim_socket(address, namespace, f"orch/{project}/{lane}"):
                return ShimFact(pid=pid, started_for=started_for, project=project)
    return ShimFact(pid=pid, started_for=started_for)


def _go_join(*parts: str) -> str:
    """Go's `filepath.Join` on Unix: the non-empty parts joined by '/', then cleaned.
    `posixpath.normpath` is Go's `Clean` but for keeping a leading '//', which Go
    reduces to '/'."""
    joined = posixpath.normpath("/".join(part for part in parts if part))
    return "/" + joined.lstrip("/") if joined.startswith("//") else joined
