"""What becomes of a project's data when its services go.

Why this exists: logs and named volumes are files under the project's state dir that no
runtime object owns, so nothing removes them unless the product does, and `leak-check`
must know which of them the product meant to keep.

- Logs go with their services, as a container's log goes with the container: a service
  removed from the Orchfile takes its default log files (rotated files and marks
  included, `forget_service_logs`), and `down` the project's whole log folder and its
  log limits. A STDOUT or STDERR the user named elsewhere is the user's file, and stays.
- Named volumes are data the user wants back: `down` keeps them, and records which it
  kept and when (`kept-volumes.json`, read by `leak-check`, which lists them as kept
  rather than leaked, until `run` or `apply` bring the project up again and forget the
  record); `down --volumes` removes them and the record.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from reconciler.logfiles import layout
from reconciler.logfiles.policy import policy_path
from reconciler.model.desired import ProjectPaths

KEPT_RECORD: Final = "kept-volumes.json"
LOG_SUFFIXES: Final = (".log", ".err")


@dataclass(frozen=True, kw_only=True)
class KeptVolumes:
    """The named volumes a `down` kept: their names, and when."""

    at: datetime
    names: tuple[str, ...]


def forget_service_logs(logs: Path, service: str) -> None:
    """A removed service's default log files, every file of each."""
    if Path(service).name != service:
        return
    for suffix in LOG_SUFFIXES:
        layout.remove_log(logs / f"{service}{suffix}")


def forget_logs(paths: ProjectPaths) -> None:
    """Every log file of the project under its state dir, the folder, and its limits."""
    directory = paths.logs
    if directory.is_dir() and not directory.is_symlink():
        for entry in sorted(directory.iterdir()):
            if entry.name.endswith(LOG_SUFFIXES) and entry.is_file():
                layout.remove_log(entry)  # under its lock: no rotation leaves a file behind
        shutil.rmtree(directory)
    policy_path(paths.state_dir).unlink(missing_ok=True)


def volume_names(paths: ProjectPaths) -> list[str]:
    try:
        return sorted(e.name for e in paths.volumes.iterdir() if e.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def keep_volumes(paths: ProjectPaths, at: datetime) -> tuple[str, ...]:
    """Record the volumes `down` keeps (none: no record); their names."""
    names = tuple(volume_names(paths))
    record = paths.state_dir / KEPT_RECORD
    if not names:
        record.unlink(missing_ok=True)
        return ()
    temporary = record.with_name(record.name + ".new")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(temporary, flags, layout.FILE_MODE)
    try:
        os.write(fd, json.dumps({"at": at.isoformat(), "volumes": list(names)}).encode())
    finally:
        os.close(fd)
    os.replace(temporary, record)
    return names


def forget_kept(paths: ProjectPaths) -> None:
    """The project is up again (`run`, `apply`): its volumes are in use, no longer data a
    `down` kept, so `leak-check` stops listing them as kept."""
    (paths.state_dir / KEPT_RECORD).unlink(missing_ok=True)


def remove_volumes(paths: ProjectPaths) -> tuple[str, ...]:
    """Every named volume of the project, and the record of kept ones; their names. A
    volume that is a symbolic link loses the link, never what it points to."""
    names = tuple(volume_names(paths))
    directory = paths.volumes
    if directory.is_symlink():
        directory.unlink()
    elif directory.is_dir():
        for entry in directory.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        directory.rmdir()
    forget_kept(paths)
    return names


def read_kept(state_dir: Path) -> KeptVolumes | None:
    """The record a `down` left in a project's state dir; None without one (or a
    malformed one: then nothing counts as kept)."""
    try:
        document = json.loads((state_dir / KEPT_RECORD).read_text())
        return KeptVolumes(
            at=datetime.fromisoformat(document["at"]),
            names=tuple(str(name) for name in document["volumes"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
