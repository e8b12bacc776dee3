"""What one leak check is given: the facts the probes gathered, and its scope.

Why apart from the judges: these are the one shape every side shares. The app layer
fills them in from containerd and the host (`app/leak_check.py`, and `app/status.py`
from a pass's observation), `cli/leak_check.py` builds a `Scope` without loading any
judge, and each judge only reads them. Each part of `LeakFacts` is either what was
observed or `NotObserved` with the reason, because a probe that could not look must make
its class unchecked, never clean. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.controllers.leaked_data import KeptVolumes, ProjectFile
from reconciler.model.desired import DesiredStack
from reconciler.model.network_facts import (
    BridgeFact,
    IpamAllocation,
    NatRules,
    NetnsFact,
    VethFact,
)
from reconciler.model.observed import ObservedUnit, RuntimeFacts
from reconciler.model.shim_facts import ShimFact


@dataclass(frozen=True, kw_only=True)
class NotObserved:
    """A probe that could not look (containerd unreachable, /proc unreadable...)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordedProcess:
    """A live process recorded for a host unit whose record is gone."""

    unit_id: str
    pid: int


@dataclass(frozen=True, kw_only=True)
class HostFacts:
    units: tuple[ObservedUnit, ...] = ()
    recorded: tuple[RecordedProcess, ...] = ()


@dataclass(frozen=True, kw_only=True)
class LeakFacts:
    """Everything gathered for one check; each part observed or `NotObserved`."""

    runtime: RuntimeFacts | NotObserved
    shims: tuple[ShimFact, ...] | NotObserved
    mounts: tuple[str, ...] | NotObserved
    cgroups: Mapping[str, tuple[str, ...]] | NotObserved
    network_namespaces: tuple[NetnsFact, ...] | NotObserved
    veths: tuple[VethFact, ...] | NotObserved
    ipam_allocations: tuple[IpamAllocation, ...] | NotObserved
    nat_rules: tuple[NatRules, ...] | NotObserved
    bridges: tuple[BridgeFact, ...] | NotObserved
    host: HostFacts | NotObserved
    volumes: tuple[ProjectFile, ...] | NotObserved
    log_files: tuple[ProjectFile, ...] | NotObserved
    # Projects with a state dir in the namespace, for --all-projects attribution.
    state_projects: tuple[str, ...] = ()
    # What each project's last `down` kept, by project.
    kept_volumes: Mapping[str, KeptVolumes] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Scope:
    namespace: str
    desired: DesiredStack
    all_projects: bool = False
    strict: bool = False  # kept data counts as leaked

    @property
    def project(self) -> str:
        return self.desired.project
