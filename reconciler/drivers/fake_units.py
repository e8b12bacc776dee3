"""The fake driver's tables: its units, their tasks, what a service is scripted to do,
and the record of each mutating call; and how a unit looks to `observe`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

from reconciler.errors import ImageNotFound
from reconciler.model import labels
from reconciler.model.desired import DesiredService, ServiceMode
from reconciler.model.inputs import ImageMissing
from reconciler.model.observed import ObservedTask, ObservedUnit, TaskPhase

MUTATIONS: Final = frozenset({"create", "start", "stop", "remove", "annotate"})
SIGTERM_EXIT: Final = 128 + 15
SIGKILL_EXIT: Final = 128 + 9
FIRST_PID: Final = 1000


@dataclass(frozen=True, kw_only=True)
class Call:
    """One call of a mutating method: its name, the unit it concerns, its arguments."""

    method: str
    unit_id: str
    args: Mapping[str, object] = field(default_factory=dict)


@dataclass(kw_only=True)
class FakeTask:
    phase: TaskPhase
    pid: int
    started_at: datetime
    exit_code: int | None = None
    exited_at: datetime | None = None
    exit_due: tuple[datetime, int] | None = None
    oom_killed: bool = False


@dataclass(kw_only=True)
class FakeUnit:
    id: str
    labels: dict[str, str]
    image: str
    created_at: datetime
    task: FakeTask | None = None

    @property
    def ours(self) -> bool:
        return labels.is_ours(self.labels)


@dataclass(frozen=True, kw_only=True)
class ScriptedRun:
    """What every start of a service does: exit with `code` after `after`."""

    code: int
    after: timedelta


@dataclass(kw_only=True)
class FakeImages:
    """What a registry resolves each reference to, and what is pulled (`local`)."""

    registry: dict[str, str]
    local: dict[str, str]

    def look(
        self, service: DesiredService, reference: str, *, fetch: bool, look_up: bool
    ) -> str | ImageMissing:
        """The digest the service would run, as the real driver's `inputs` finds it."""
        if fetch:
            return self.pull(service, reference)
        found = self.local.get(reference)
        if found is None:
            return ImageMissing(reference=reference)
        if look_up and self.registry.get(reference, found) != found:
            return ImageMissing(reference=reference, moved=True)
        return found

    def pull(self, service: DesiredService, reference: str) -> str:
        digest = self.registry.get(reference) or self.local.get(reference)
        if digest is None:
            raise ImageNotFound(f"service '{service.name}': image {reference} not found")
        self.local[reference] = digest
        return digest

    def present_or_pull(self, service: DesiredService, reference: str) -> str:
        present = self.local.get(reference)
        return present if present is not None else self.pull(service, reference)


def observed_unit(unit: FakeUnit, mode: ServiceMode) -> ObservedUnit:
    """The unit as a real driver would show it: a copy, the exit only once stopped."""
    task = unit.task
    return ObservedUnit.from_labels(
        id=unit.id,
        mode=mode,
        image=unit.image,
        labels=MappingProxyType(dict(unit.labels)),
        created_at=unit.created_at,
        task=None
        if task is None
        else ObservedTask(
            phase=task.phase,
            pid=task.pid,
            exit_code=task.exit_code if task.phase is TaskPhase.STOPPED else None,
            exited_at=task.exited_at,
            oom_killed=task.oom_killed and task.phase is TaskPhase.STOPPED,
        ),
    )
