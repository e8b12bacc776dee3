"""Which of a project's data files `leak-check` counts: named volumes and log files.

Why apart from the other judges `leaks` calls: these are files under the project's state
dir that no runtime object owns, judged by a rule of their own (docs/logs.md): only what
the product should have removed counts. A log file of no service in the Orchfile is
leaked, since the product removes a service's logs with it (and `down` the project's).
A named volume a `down` kept is *kept*: listed, never a leak unless `strict`, even while
the Orchfile still mounts it (the usual CI check after `down`); any other is accounted
for when a service in the Orchfile (DISABLED ones too: their data is still wanted)
mounts it, and leaked otherwise. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reconciler.model.desired import DesiredStack, NamedVolume
from reconciler.model.leaks import LeakedItem


@dataclass(frozen=True, kw_only=True)
class ProjectFile:
    """A file or directory under a project's state dir (a volume, a log file)."""

    project: str
    path: Path


@dataclass(frozen=True, kw_only=True)
class KeptVolumes:
    """The named volumes a `down` of the project kept, by name, and when."""

    names: frozenset[str]
    at: datetime


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _mounted(desired: DesiredStack) -> set[str]:
    return {
        volume.name
        for service in desired.services
        for volume in service.volumes
        if isinstance(volume, NamedVolume)
    }


def volumes(
    desired: DesiredStack,
    in_scope: Callable[[str], bool],
    found: Iterable[ProjectFile],
    kept: Mapping[str, KeptVolumes],
    *,
    strict: bool,
) -> tuple[list[LeakedItem], list[LeakedItem]]:
    """(leaked, kept): what `down` kept, then volumes of no service in the Orchfile."""
    mounted = _mounted(desired)
    leaked, kept_items = [], []
    for volume in found:
        name = volume.path.name
        if not in_scope(volume.project):
            continue
        record = kept.get(volume.project)
        if record is None or name not in record.names:
            if volume.project == desired.project and name in mounted:
                continue
            detail = f"volume '{name}' of no service in the Orchfile"
            leaked.append(LeakedItem(id=str(volume.path), detail=detail))
            continue
        detail = f"volume '{name}' kept by `down` at {stamp(record.at)}"
        if strict:
            leaked.append(LeakedItem(id=str(volume.path), detail=f"{detail}; --strict"))
        else:
            detail += "; `down --volumes` removes it"
            kept_items.append(LeakedItem(id=str(volume.path), detail=detail))
    return leaked, kept_items


def log_files(
    desired: DesiredStack, in_scope: Callable[[str], bool], found: Iterable[ProjectFile]
) -> list[LeakedItem]:
    """Log files of no service in the Orchfile: its stdout or stderr, or named
    `<service>.<anything>` (rotated files, marks)."""
    names = {str(s.name) for s in desired.services}
    paths = {p for s in desired.services for p in (s.stdout, s.stderr)}

    def accounted(file: ProjectFile) -> bool:
        if file.project != desired.project:
            return False
        return file.path in paths or file.path.name.split(".", 1)[0] in names

    return [
        LeakedItem(id=str(f.path), detail="log of no service in the Orchfile")
        for f in found
        if in_scope(f.project) and not accounted(f)
    ]
