"""Which of containerd's own objects `leak-check` counts: tasks, containers, snapshots and
leases. Pure.

Why apart: these are what containerd's API lists, with their labels, so each is judged
by label first (`leak_owners`); the objects the API does not show are `leaked_host`'s
and the network's are `leaked_network`'s. Class by class:

- tasks: a task whose container record is gone (headless), or the task of one of our
  containers that no desired service accounts for.
- containers: our containers whose service is not desired, is DISABLED or has moved to
  host mode.
- snapshots: active snapshots with our labels, keyed by an id of the project, that no
  container uses.
- leases: ours whose process (`orch.owner`) is gone, or whose `containerd.io/gc.expire`
  has passed or is missing or unparsable (we never create a lease without one), or that
  were created more than `LEASE_MAX_AGE` ago. A young lease whose process still runs is
  an import or create in flight, not a leak.
  A lease of ours without a project label (the image service used on its own labels
  none) counts for every project of the namespace; one naming a project in
  `orch.project` (as every lease `run`, `apply` and `down` make does) is that project's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from reconciler.controllers.leak_facts import Scope
from reconciler.controllers.leak_owners import Owners, wanted_reason
from reconciler.controllers.leaked_data import stamp
from reconciler.model import labels
from reconciler.model.desired import ServiceMode
from reconciler.model.leaks import LeakedItem
from reconciler.model.observed import RuntimeFacts

# Longer than any lease we create lives (an image import: 1 h), with room for a slow one.
LEASE_MAX_AGE: Final = timedelta(hours=2)


def _container_reasons(scope: Scope, owners: Owners, runtime: RuntimeFacts) -> dict[str, str]:
    reasons = {}
    for container in runtime.containers:
        if not owners.of_labels(container.labels):
            continue
        project = container.labels.get(labels.PROJECT, "")
        service = container.labels.get(labels.SERVICE, "")
        reason = wanted_reason(scope, project, service, ServiceMode.CONTAINER)
        if reason is not None:
            reasons[container.id] = reason
    return reasons


def tasks(scope: Scope, owners: Owners, runtime: RuntimeFacts) -> list[LeakedItem]:
    container_ids = {c.id for c in runtime.containers}
    undesired = _container_reasons(scope, owners, runtime)
    found = []
    for task in runtime.tasks:
        detail = f"pid {task.pid}, {task.phase.value}"
        if task.id not in container_ids:
            if owners.of_id(task.id):
                found.append(LeakedItem(id=task.id, detail=f"{detail}; container record gone"))
        elif task.id in undesired:
            found.append(LeakedItem(id=task.id, detail=f"{detail}; {undesired[task.id]}"))
    return found


def containers(scope: Scope, owners: Owners, runtime: RuntimeFacts) -> list[LeakedItem]:
    reasons = _container_reasons(scope, owners, runtime)
    return [LeakedItem(id=cid, detail=reason) for cid, reason in reasons.items()]


def snapshots(owners: Owners, runtime: RuntimeFacts) -> list[LeakedItem]:
    used = {c.snapshot_key for c in runtime.containers}
    return [
        LeakedItem(id=s.name, detail="active snapshot without a container")
        for s in runtime.snapshots
        if s.active and labels.is_ours(s.labels) and s.name not in used and owners.of_id(s.name)
    ]


def leases(owners: Owners, runtime: RuntimeFacts, now: datetime) -> list[LeakedItem]:
    found = []
    for lease in runtime.leases:
        if not labels.is_ours(lease.labels):
            continue
        project = lease.labels.get(labels.PROJECT)
        if project is not None and not owners.in_scope(project):
            continue
        expiry = labels.lease_expiry(lease.labels)
        if lease.owner_gone:
            owner = lease.labels.get(labels.OWNER, "")
            found.append(LeakedItem(id=lease.id, detail=f"its process ({owner}) is gone"))
        elif expiry is None:
            found.append(LeakedItem(id=lease.id, detail="no valid expiry (never collected)"))
        elif expiry <= now:
            found.append(LeakedItem(id=lease.id, detail=f"expired {stamp(expiry)}"))
        elif lease.created_at is not None and now - lease.created_at > LEASE_MAX_AGE:
            found.append(LeakedItem(id=lease.id, detail=f"created {stamp(lease.created_at)}"))
    return found
