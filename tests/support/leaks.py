"""What a test left in its containerd namespace, and wiping that namespace afterwards.

A test owns one namespace. When it ends, tasks, containers, leases, active (non-committed)
snapshots and in-flight ingests in that namespace are leaks: the product is meant to remove
them. Images, their blobs and committed layer snapshots are a cache and may stay.
Everything is read through containerd's own ``ctr``, independently of the reconciler.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.containerd import CtrError
from tests.support.polling import eventually

# ctr(*args) bound to one daemon and namespace, returning stdout.
Ctr = Callable[..., str]


@dataclass(frozen=True, kw_only=True)
class Leftover:
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def _ids(ctr: Ctr, *args: str) -> list[str]:
    return [line.strip() for line in ctr(*args).splitlines() if line.strip()]


def _table(ctr: Ctr, *args: str) -> list[list[str]]:
    """Rows of a ``ctr ... ls`` table without its header line."""
    return [line.split() for line in ctr(*args).splitlines()[1:] if line.strip()]


def leftovers(ctr: Ctr) -> list[Leftover]:
    """Every object in the namespace that a finished test must not leave behind."""
    found = [Leftover(kind="task", name=task) for task in _ids(ctr, "tasks", "ls", "-q")]
    found += [Leftover(kind="container", name=c) for c in _ids(ctr, "containers", "ls", "-q")]
    found += [Leftover(kind="lease", name=lease) for lease in _ids(ctr, "leases", "ls", "-q")]
    # Columns: KEY PARENT KIND, where PARENT may be empty.
    found += [
        Leftover(kind=f"{row[-1].lower()} snapshot", name=row[0])
        for row in _table(ctr, "snapshots", "ls")
        if row[-1] != "Committed"
    ]
    found += [Leftover(kind="ingest", name=row[0]) for row in _table(ctr, "content", "active")]
    return found


def purge(ctr: Ctr, namespace: str, *, timeout: float = 30.0) -> None:
    """Delete everything in the namespace, then the namespace and its cgroups.

    Failures propagate: a namespace that cannot be emptied is itself worth a report.
    """
    for task in _ids(ctr, "tasks", "ls", "-q"):
        ctr("tasks", "rm", "--force", task)
    containers = _ids(ctr, "containers", "ls", "-q")
    if containers:
        ctr("containers", "rm", *containers)
    for lease in _ids(ctr, "leases", "ls", "-q"):
        ctr("leases", "rm", "--sync", lease)
    images = _ids(ctr, "images", "ls", "-q")
    if images:
        ctr("images", "rm", "--sync", *images)
    _remove_snapshots(ctr, timeout=timeout)
    blobs = _ids(ctr, "content", "ls", "-q")
    if blobs:
        ctr("content", "rm", *blobs)

    def namespace_removed() -> bool:
        if namespace in _ids(ctr, "namespaces", "ls", "-q"):
            ctr("namespaces", "rm", "--cgroup", namespace)
        return True

    eventually(namespace_removed, timeout=timeout, what=f"namespace {namespace} is removed")
    _remove_empty_cgroups(namespace)


def _remove_snapshots(ctr: Ctr, *, timeout: float) -> None:
    """Remove snapshots children first; the GC after an image delete may still be running."""

    def none_left() -> bool:
        rows = _table(ctr, "snapshots", "ls")
        parents = {row[1] for row in rows if len(row) == 3}
        for row in rows:
            if row[0] not in parents:
                try:
                    ctr("snapshots", "rm", row[0])
                except CtrError as error:
                    if "not found" not in str(error):
                        raise
        assert not rows, f"snapshots left: {[row[0] for row in rows]}"
        return True

    eventually(none_left, timeout=timeout, what="all snapshots removed")


def _remove_empty_cgroups(namespace: str) -> None:
    """containerd leaves an empty cgroup per namespace in every hierarchy (docs/containerd.md,
    "What the API does not show")."""
    candidates = [*glob.glob(f"/sys/fs/cgroup/*/{namespace}"), f"/sys/fs/cgroup/{namespace}"]
    for path in candidates:
        if Path(path).is_dir():
            os.rmdir(path)
