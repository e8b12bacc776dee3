"""A project's log limits on disk: `run` and `apply` write them, and every process that
keeps or reads the project's logs afterwards (host services' supervisors, which outlive
both; `logs -f`) reads them, so a change reaches running services without a restart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final

from reconciler.logfiles.layout import make_directory
from reconciler.model.log_limits import (
    DEFAULT_LOG_LIMITS,
    LogLimits,
    parse_max_files,
    parse_max_size,
)
from reconciler.model.units import UnitError
from reconciler.statedir.files import write_atomically

POLICY_FILE: Final = "log-limits.json"


def policy_path(project_state_dir: Path) -> Path:
    return project_state_dir / POLICY_FILE


def read_policy(path: Path) -> LogLimits:
    """The limits written there; the defaults when there are none or they do not parse."""
    try:
        document = json.loads(path.read_text())
        return LogLimits(
            max_size=parse_max_size(str(document["max_size"])),
            max_files=parse_max_files(str(document["max_files"])),
        )
    except (OSError, ValueError, KeyError, TypeError, UnitError):
        return DEFAULT_LOG_LIMITS


def write_policy(path: Path, limits: LogLimits) -> bool:
    """Write `limits` (atomically, 0600) unless they are there already; whether it wrote."""
    if path.exists() and read_policy(path) == limits:
        return False
    make_directory(path.parent)
    document = {"max_size": limits.max_size, "max_files": limits.max_files}
    write_atomically(path, json.dumps(document).encode())
    return True


class PolicyReader:
    """The limits at `path`, read again only when the file changes."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._seen: tuple[int, int] | None = None
        self._limits = DEFAULT_LOG_LIMITS

    def current(self) -> LogLimits:
        if self._path is None:
            return self._limits
        try:
            status = os.stat(self._path)
            changed: tuple[int, int] | None = (status.st_ino, status.st_mtime_ns)
        except OSError:
            changed = None
        if changed != self._seen:
            self._seen = changed
            self._limits = read_policy(self._path)
        return self._limits
