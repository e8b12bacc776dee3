"""What `leak-check` found: per leak class, the leaked items or why the class went unchecked.

A class is either checked (with zero or more leaked items) or unchecked (with the reason,
e.g. "/proc is not readable"); the two are separate types so that "nothing found" and
"could not look" can never be confused. A checked class may also list what it found
*kept* on purpose (named volumes `down` kept): listed, never a leak. A report always
holds every class exactly once, in `LeakClass` order, so renderers and CI dashboards
show a stable list.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class LeakClass(enum.Enum):
    TASKS = "tasks"
    CONTAINERS = "containers"
    SNAPSHOTS = "snapshots"
    LEASES = "leases"
    SHIMS = "shims"
    MOUNTS = "mounts"
    CGROUPS = "cgroups"
    NETWORK_NAMESPACES = "network-namespaces"
    VETHS = "veths"
    IPAM_ALLOCATIONS = "ipam-allocations"
    PORT_MAPPINGS = "port-mappings"
    BRIDGES = "bridges"
    HOST_PROCESSES = "host-processes"
    VOLUMES = "volumes"
    LOG_FILES = "log-files"


class LeakVerdict(enum.Enum):
    CLEAN = "clean"
    LEAKED = "leaked"
    UNCHECKED = "unchecked"


@dataclass(frozen=True, kw_only=True)
class LeakedItem:
    """One leaked object: its id (container id, lease id, path, pid) and a short detail."""

    id: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Checked:
    leak_class: LeakClass
    leaked: tuple[LeakedItem, ...] = ()
    kept: tuple[LeakedItem, ...] = ()  # data the product keeps on purpose: not a leak


@dataclass(frozen=True, kw_only=True)
class Unchecked:
    leak_class: LeakClass
    reason: str


ClassOutcome = Checked | Unchecked


@dataclass(frozen=True, kw_only=True)
class LeakReport:
    """Every leak class's outcome for one project (or, with `all_projects`, the namespace)."""

    project: str
    namespace: str
    all_projects: bool
    outcomes: tuple[ClassOutcome, ...]

    def __post_init__(self) -> None:
        classes = tuple(outcome.leak_class for outcome in self.outcomes)
        if classes != tuple(LeakClass):
            names = ", ".join(leak_class.value for leak_class in classes)
            raise ValueError(f"a leak report needs every class once, in order; got: {names}")

    @property
    def leaked_count(self) -> int:
        return sum(len(o.leaked) for o in self.outcomes if isinstance(o, Checked))

    @property
    def kept_count(self) -> int:
        return sum(len(o.kept) for o in self.outcomes if isinstance(o, Checked))

    @property
    def unchecked(self) -> tuple[Unchecked, ...]:
        return tuple(o for o in self.outcomes if isinstance(o, Unchecked))

    @property
    def verdict(self) -> LeakVerdict:
        """Leaks found outweigh classes not checked: what was found is certain."""
        if self.leaked_count:
            return LeakVerdict.LEAKED
        if self.unchecked:
            return LeakVerdict.UNCHECKED
        return LeakVerdict.CLEAN


def ordered_outcomes(outcomes: Iterable[ClassOutcome]) -> tuple[ClassOutcome, ...]:
    """The outcomes sorted into `LeakClass` order, for checkers that finish out of order."""
    rank = {leak_class: index for index, leak_class in enumerate(LeakClass)}
    return tuple(sorted(outcomes, key=lambda outcome: rank[outcome.leak_class]))
