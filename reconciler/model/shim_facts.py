"""What the host shows of the runc shims serving a namespace, for observation and the
leak decision.

Gathered by `reconciler.drivers.containerd.host_probe` (argv and sockets from /proc) and
judged by `reconciler.controllers.leaked_host`; it lives in the model so that the judge
can read it without importing a driver.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ShimFact:
    """One `containerd-shim-runc-v2` process of the namespace and whom it serves, as the
    socket it listens on tells: one container's task (`container_id`: the socket is
    named after that id, as containerd names the shim it starts for a single task), or
    every task of a project's shim group (`project`). Neither: a group that is not ours.

    `started_for` is its `-id`: the container whose task started it, which a group's
    shim keeps after that container is gone."""

    pid: int
    started_for: str
    container_id: str | None = None
    project: str | None = None
