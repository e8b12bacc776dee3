"""Whose an object is, for the leak judges: the project's, another project's, or no one's
we may report. Pure.

Why apart from the judges: every leak class asks the same two questions, whose an
object is and whether the Orchfile still accounts for it, and they must be answered
alike for all of them (docs/cli.md, "What counts as a leak"; docs/containerd.md, "What the
API does not show"):

- An object with labels is ours only with `orch.managed-by=reconciler`, and the
  project's when `orch.project` names it (snapshots carry no project label, and a lease
  need not; `leaked_runtime` has that rule). Objects without our labels are never
  anyone's leak.
- An object with no labels at all (a headless task, a shim, a rootfs mount, a cgroup, a
  network namespace, veth, address or nat rule) is known only by its container id. It
  is the project's when that id is a unit id we know for the project (a labelled
  container, a desired service, a host unit) or starts with `<project>-`, unless a
  container record without our labels holds that id (it is someone else's) or a
  labelled container of another project does.
- With `all_projects`, every project known in the namespace (from labels, unit records,
  the state dir and the desired stack) is in scope.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.controllers.leak_facts import HostFacts, LeakFacts, NotObserved, Scope
from reconciler.model import labels
from reconciler.model.desired import ServiceMode
from reconciler.model.observed import RuntimeFacts


class Owners:
    """Who an object belongs to, by labels or by container id."""

    def __init__(self, scope: Scope, facts: LeakFacts) -> None:
        self.scope = scope
        runtime = facts.runtime if isinstance(facts.runtime, RuntimeFacts) else RuntimeFacts()
        host = facts.host if isinstance(facts.host, HostFacts) else HostFacts()
        self.unit_project: dict[str, str] = {}
        self.foreign_ids: set[str] = set()
        for container in runtime.containers:
            if labels.is_ours(container.labels):
                self.unit_project[container.id] = container.labels.get(labels.PROJECT, "")
            else:
                self.foreign_ids.add(container.id)
        for unit in host.units:
            self.unit_project.setdefault(unit.id, unit.project)
        for service in scope.desired.services:
            unit_id = labels.container_id(scope.project, service.name)
            self.unit_project.setdefault(unit_id, scope.project)
        # A project's files and its network's objects name the project.
        named = (
            facts.volumes,
            facts.log_files,
            facts.veths,
            facts.ipam_allocations,
            facts.bridges,
        )
        found_projects = [
            found.project for seen in named if not isinstance(seen, NotObserved) for found in seen
        ]
        # So does the socket of a project's shim.
        if not isinstance(facts.shims, NotObserved):
            found_projects += [shim.project for shim in facts.shims if shim.project is not None]
        known = {
            scope.project,
            *facts.state_projects,
            *found_projects,
            *self.unit_project.values(),
        }
        self.projects = sorted(p for p in known if p) if scope.all_projects else [scope.project]

    def in_scope(self, project: str | None) -> bool:
        return project is not None and project in self.projects

    def of_labels(self, object_labels: Mapping[str, str]) -> bool:
        return labels.is_ours(object_labels) and self.in_scope(object_labels.get(labels.PROJECT))

    def of_id(self, object_id: str) -> bool:
        """An object known only by a container id is ours when the id is attributable."""
        return any(self.in_scope(project) for project in self.projects_of_id(object_id))

    def projects_of_id(self, object_id: str) -> set[str]:
        """The projects a container id may be of: its unit's, else every project in scope
        it starts with (`a-b-c` may be of `a` or of `a-b`); none for a foreign record."""
        if object_id in self.foreign_ids:
            return set()
        if object_id in self.unit_project:
            return {self.unit_project[object_id]}
        return {project for project in self.projects if object_id.startswith(f"{project}-")}


def wanted_reason(scope: Scope, project: str, service: str, mode: ServiceMode) -> str | None:
    """Why a unit of (project, service) in `mode` is not accounted for; None if it is."""
    if project != scope.project:
        return f"project '{project}' is not in the Orchfile"
    desired = scope.desired.service(service)
    if desired is None:
        return f"service '{service}' is not desired"
    if desired.disabled:
        return f"service '{service}' is DISABLED"
    if desired.mode is not mode:
        return f"service '{service}' now runs as a {desired.mode.value} service"
    return None
