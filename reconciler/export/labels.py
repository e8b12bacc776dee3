"""The labels every exported object carries, and the metadata made with them.

`app.kubernetes.io/name` names the service the object belongs to (a claim: its volume),
`app.kubernetes.io/part-of` the project, and `app.kubernetes.io/managed-by` says
`reconciler`: Kubernetes' recommended labels, so `kubectl get all -l
app.kubernetes.io/part-of=demo` finds a project and `-l app.kubernetes.io/name=web` one
service. Selectors (a Deployment's, a Service's) use name and part-of only: the pods a
project's Service selects are its own service's, even when several projects share a
namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from reconciler.export import kube
from reconciler.export.names import dns_label
from reconciler.model.desired import ProjectName

NAME: Final = "app.kubernetes.io/name"
PART_OF: Final = "app.kubernetes.io/part-of"
MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGER: Final = "reconciler"


@dataclass(frozen=True, kw_only=True)
class Labelling:
    project: ProjectName
    namespace: str | None

    def selector(self, app: str) -> Mapping[str, str]:
        return {NAME: dns_label(app), PART_OF: dns_label(self.project)}

    def labels(self, app: str) -> Mapping[str, str]:
        return {**self.selector(app), MANAGED_BY: MANAGER}

    def metadata(self, name: str, *, app: str) -> kube.ObjectMeta:
        return kube.ObjectMeta(name=name, namespace=self.namespace, labels=self.labels(app))
