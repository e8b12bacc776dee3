"""leak_report(): from what the runtime and the host show, and the desired state, to a
`LeakReport`. Pure.

This is where every class's judge is called and its outcome assembled; what counts as a
leak is decided by the modules this one calls, one per kind of object (docs/cli.md,
"What counts as a leak"):

- `leak_facts`: what a check is given, and its scope;
- `leak_owners`: whose an object is, decided once for every class;
- `leaked_runtime`: containerd's listed objects (tasks, containers, snapshots, leases);
- `leaked_host`: what its API does not show (shims, mounts, cgroups) and host services'
  processes;
- `leaked_network`: what an attachment made (namespaces, veths, addresses, nat rules,
  bridges);
- `leaked_data`: volumes and log files, which are data: reported, never deleted, and
  only what the product should have removed counts; a volume a `down` kept is listed as
  kept.

Whatever could not be observed makes its class `Unchecked` with the reason; a class
judged against the live tasks is unchecked too when the runtime could not be listed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from reconciler.controllers import leaked_data, leaked_host, leaked_network, leaked_runtime
from reconciler.controllers.leak_facts import HostFacts, LeakFacts, NotObserved, Scope
from reconciler.controllers.leak_owners import Owners
from reconciler.model.leaks import (
    Checked,
    ClassOutcome,
    LeakClass,
    LeakedItem,
    LeakReport,
    Unchecked,
)
from reconciler.model.observed import RuntimeFacts

T = TypeVar("T")


def _outcome(
    leak_class: LeakClass, observed: T | NotObserved, judge: Callable[[T], list[LeakedItem]]
) -> ClassOutcome:
    if isinstance(observed, NotObserved):
        return Unchecked(leak_class=leak_class, reason=observed.reason)
    items = sorted(judge(observed), key=lambda item: item.id)
    return Checked(leak_class=leak_class, leaked=tuple(items))


def _outcome_with_kept(
    leak_class: LeakClass,
    observed: T | NotObserved,
    judge: Callable[[T], tuple[list[LeakedItem], list[LeakedItem]]],
) -> ClassOutcome:
    if isinstance(observed, NotObserved):
        return Unchecked(leak_class=leak_class, reason=observed.reason)
    leaked, kept = judge(observed)
    return Checked(
        leak_class=leak_class,
        leaked=tuple(sorted(leaked, key=lambda item: item.id)),
        kept=tuple(sorted(kept, key=lambda item: item.id)),
    )


def _with_runtime(
    leak_class: LeakClass,
    runtime: RuntimeFacts | NotObserved,
    observed: T | NotObserved,
    judge: Callable[[RuntimeFacts, T], list[LeakedItem]],
) -> ClassOutcome:
    """Classes judged against the live tasks need both the runtime and their own probe."""
    if isinstance(runtime, NotObserved):
        return Unchecked(leak_class=leak_class, reason=runtime.reason)
    return _outcome(leak_class, observed, lambda seen: judge(runtime, seen))


def leak_report(facts: LeakFacts, scope: Scope, *, now: datetime) -> LeakReport:
    owners = Owners(scope, facts)
    runtime = facts.runtime
    # A cgroup of a running host unit is held; without host facts, none is.
    host_or_none = facts.host if isinstance(facts.host, HostFacts) else HostFacts()
    outcomes = (
        _outcome(LeakClass.TASKS, runtime, lambda r: leaked_runtime.tasks(scope, owners, r)),
        _outcome(
            LeakClass.CONTAINERS, runtime, lambda r: leaked_runtime.containers(scope, owners, r)
        ),
        _outcome(LeakClass.SNAPSHOTS, runtime, lambda r: leaked_runtime.snapshots(owners, r)),
        _outcome(LeakClass.LEASES, runtime, lambda r: leaked_runtime.leases(owners, r, now)),
        _with_runtime(
            LeakClass.SHIMS, runtime, facts.shims, lambda r, s: leaked_host.shims(owners, r, s)
        ),
        _with_runtime(
            LeakClass.MOUNTS, runtime, facts.mounts, lambda r, m: leaked_host.mounts(owners, r, m)
        ),
        _with_runtime(
            LeakClass.CGROUPS,
            runtime,
            facts.cgroups,
            lambda r, c: leaked_host.cgroups(owners, r, c, host_or_none),
        ),
        _with_runtime(
            LeakClass.NETWORK_NAMESPACES,
            runtime,
            facts.network_namespaces,
            lambda r, n: leaked_network.network_namespaces(owners, r, n),
        ),
        _with_runtime(
            LeakClass.VETHS, runtime, facts.veths, lambda r, v: leaked_network.veths(owners, r, v)
        ),
        _with_runtime(
            LeakClass.IPAM_ALLOCATIONS,
            runtime,
            facts.ipam_allocations,
            lambda r, a: leaked_network.ipam_allocations(owners, r, a),
        ),
        _with_runtime(
            LeakClass.PORT_MAPPINGS,
            runtime,
            facts.nat_rules,
            lambda r, n: leaked_network.port_mappings(owners, r, n),
        ),
        _with_runtime(
            LeakClass.BRIDGES,
            runtime,
            facts.bridges,
            lambda r, b: leaked_network.bridges(owners, r, b),
        ),
        _outcome(
            LeakClass.HOST_PROCESSES,
            facts.host,
            lambda h: leaked_host.host_processes(scope, owners, h),
        ),
        _outcome_with_kept(
            LeakClass.VOLUMES,
            facts.volumes,
            lambda found: leaked_data.volumes(
                scope.desired, owners.in_scope, found, facts.kept_volumes, strict=scope.strict
            ),
        ),
        _outcome(
            LeakClass.LOG_FILES,
            facts.log_files,
            lambda found: leaked_data.log_files(scope.desired, owners.in_scope, found),
        ),
    )
    return LeakReport(
        project=scope.project,
        namespace=scope.namespace,
        all_projects=scope.all_projects,
        outcomes=outcomes,
    )
