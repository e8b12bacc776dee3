"""Runtime events as the controllers see them, whatever driver reported them.

They only say which service to look at again: the controllers always re-observe before
acting (controller-runtime's rule), so a lost or duplicated event costs a little time,
never correctness. `Resynced` says events may have been lost (a reconnect): look at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class UnitExited:
    unit_id: str
    exit_code: int
    exited_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class UnitOutOfMemory:
    unit_id: str


@dataclass(frozen=True, kw_only=True)
class UnitDeleted:
    unit_id: str


@dataclass(frozen=True, kw_only=True)
class Resynced:
    """The event source (re)connected: anything may have changed unseen."""


RuntimeEvent = UnitExited | UnitOutOfMemory | UnitDeleted | Resynced
