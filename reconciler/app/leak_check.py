"""`leak-check`: gather what containerd and the host show, let the controller judge it.

Gathering is the effectful half: one listing of the namespace (every container and task,
ours or not, so that foreign ids are known and never blamed on us), our snapshots and
leases, shims and rootfs mounts from `/proc`, container cgroups from cgroupfs, the
projects' network objects (namespaces, bridge ports, addresses, nat rules, bridges: see
`drivers.containerd.network.census`), host units from their records, the project's
volume and log directories, and which volumes its last `down` kept. Each probe that
cannot look becomes `NotObserved` with the reason, so its classes are reported
unchecked, never clean. The decision is `reconciler.controllers.leaks.leak_report`.

Settling waits for teardowns in progress without a fixed sleep: it re-checks after every
containerd event of the namespace (a task deleted, a snapshot removed...) and at least
every `SETTLE_RECHECK` seconds (shims, mounts, network objects and host processes send
no events), and returns as soon as a check is clean or the time is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Final, TypeVar

from reconciler.app.containerd_address import choose_containerd
from reconciler.app.project_data import read_kept
from reconciler.clock import Clock, SystemClock
from reconciler.controllers.leaked_data import KeptVolumes, ProjectFile
from reconciler.controllers.leaks import (
    HostFacts,
    LeakFacts,
    NotObserved,
    RecordedProcess,
    Scope,
    leak_report,
)
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.host_probe import (
    container_cgroups,
    rootfs_mounts,
    shim_facts,
)
from reconciler.drivers.containerd.network.census import CannotLook, NetworkCensus
from reconciler.drivers.containerd.observe import runtime_facts
from reconciler.drivers.containerd.watch import watch_events
from reconciler.drivers.host.cgroups import unit_cgroups
from reconciler.drivers.host.driver import HostDriver
from reconciler.errors import RuntimeUnavailable
from reconciler.model import labels
from reconciler.model.leaks import LeakReport, LeakVerdict
from reconciler.model.network_facts import NatRules
from reconciler.model.observed import (
    RuntimeFacts,
    Unreachable,
)
from reconciler.model.shim_facts import ShimFact
from reconciler.settings import Settings

SETTLE_RECHECK: Final = 0.5
VOLUMES_DIR: Final = "volumes"
LOGS_DIR: Final = "logs"
NETWORK_DIR: Final = "network"

T = TypeVar("T")


class LeakCheck:
    """Checks one scope; `client` is None when no containerd could be chosen (`reason`)."""

    def __init__(
        self,
        *,
        scope: Scope,
        client: ContainerdClient | None,
        unreachable: str = "",
        is_root: Callable[[], bool] = lambda: os.geteuid() == 0,
        clock: Clock | None = None,
    ) -> None:
        self._scope = scope
        self._client = client
        self._unreachable = unreachable
        self._is_root = is_root
        self._clock = clock or SystemClock()
        desired = scope.desired
        self._projects_root = desired.paths.state_dir.parent
        self._host = HostDriver(
            project=desired.project,
            namespace=scope.namespace,
            state_dir=desired.paths.state_dir,
            clock=self._clock,
        )

    @property
    def _project_filter(self) -> str | None:
        return None if self._scope.all_projects else self._scope.project

    async def check(self) -> LeakReport:
        census = NetworkCensus(
            namespace=self._scope.namespace,
            networks={
                project: self._projects_root / project / NETWORK_DIR
                for project in await asyncio.to_thread(self._projects_in_scope)
            },
        )
        facts = LeakFacts(
            runtime=await self._runtime(),
            shims=self._shims(),
            mounts=self._mounts(),
            cgroups=self._cgroups(),
            network_namespaces=await _network(census.namespaces),
            veths=await _network(census.veths),
            ipam_allocations=await _network(census.ipam_allocations),
            nat_rules=await self._nat_rules(census),
            bridges=await _network(census.bridges),
            host=await self._host_facts(),
            volumes=await asyncio.to_thread(self._project_entries, VOLUMES_DIR, dirs=True),
            log_files=await asyncio.to_thread(self._project_entries, LOGS_DIR, dirs=False),
            state_projects=tuple(await asyncio.to_thread(self._state_projects)),
            kept_volumes=await asyncio.to_thread(self._kept_volumes),
        )
        return leak_report(facts, self._scope, now=self._clock.now())

    async def check_settled(self, settle: timedelta) -> LeakReport:
        """Check until clean, re-checking on events, for at most `settle`."""
        deadline = self._clock.deadline(settle)
        async with self._events() as woken:
            while True:
                woken.clear()
                report = await self.check()
                if report.verdict is LeakVerdict.CLEAN or deadline.passed:
                    return report
                await self._clock.wait_event(woken, min(SETTLE_RECHECK, deadline.remaining()))

    @contextlib.asynccontextmanager
    async def _events(self) -> AsyncIterator[asyncio.Event]:
        woken = asyncio.Event()
        client = self._client
        if client is None:
            yield woken
            return

        async def listen() -> None:
            async for _ in watch_events(client):
                woken.set()

        listener = asyncio.create_task(listen())
        try:
            yield woken
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    # Probes

    async def _runtime(self) -> RuntimeFacts | NotObserved:
        client = self._client
        if client is None:
            return NotObserved(reason=self._unreachable)
        try:
            containers = await client.containers.list()
            tasks = await client.tasks.list()
            snapshots = await client.snapshots.list(labels=labels.ours())
            leases = await client.leases.list(labels=labels.ours())
        except RuntimeUnavailable as error:
            return NotObserved(reason=f"containerd: {error}")
        return runtime_facts(containers, tasks, snapshots, leases)

    def _shims(self) -> tuple[ShimFact, ...] | NotObserved:
        if self._client is None:
            return NotObserved(reason=self._unreachable)
        try:
            # A shim's sockets, which say whom it serves, are its owner's to read.
            return shim_facts(self._scope.namespace, self._client.socket)
        except OSError as error:
            return NotObserved(reason=f"/proc is not readable: {error}")

    def _mounts(self) -> tuple[str, ...] | NotObserved:
        try:
            return tuple(rootfs_mounts(self._scope.namespace))
        except OSError as error:
            return NotObserved(reason=f"/proc/self/mountinfo is not readable: {error}")

    def _cgroups(self) -> dict[str, tuple[str, ...]] | NotObserved:
        """Containers' cgroups and host units', by unit id (ids never collide: both are
        `<project>-<service>` of one namespace)."""
        if not self._is_root():
            return NotObserved(reason="not root: cgroups are only checked as root")
        try:
            found = container_cgroups(self._scope.namespace)
            for unit_id, paths in unit_cgroups(self._scope.namespace).items():
                found.setdefault(unit_id, []).extend(paths)
        except OSError as error:
            return NotObserved(reason=f"cgroupfs is not readable: {error}")
        return {cid: tuple(str(p) for p in paths) for cid, paths in found.items()}

    async def _nat_rules(self, census: NetworkCensus) -> tuple[NatRules, ...] | NotObserved:
        if not self._is_root():
            return NotObserved(reason="not root: iptables rules are only checked as root")
        return await _network(census.nat_rules)

    async def _host_facts(self) -> HostFacts | NotObserved:
        observed = await self._host.observe(self._project_filter)
        if isinstance(observed, Unreachable):
            return NotObserved(reason=observed.reason)
        try:
            orphans = await self._host.orphan_processes(self._project_filter)
        except OSError as error:
            return NotObserved(reason=f"host units: {error}")
        return HostFacts(
            units=observed.units,
            recorded=tuple(RecordedProcess(unit_id=u, pid=pid) for u, pid in orphans),
        )

    def _state_projects(self) -> list[str]:
        try:
            return sorted(e.name for e in self._projects_root.iterdir() if e.is_dir())
        except FileNotFoundError:
            return []

    def _projects_in_scope(self) -> list[str]:
        return self._state_projects() if self._scope.all_projects else [self._scope.project]

    def _kept_volumes(self) -> dict[str, KeptVolumes]:
        """What each project's last `down` kept, from its record (`project_data`)."""
        found = {}
        for project in self._projects_in_scope():
            record = read_kept(self._projects_root / project)
            if record is not None:
                found[project] = KeptVolumes(names=frozenset(record.names), at=record.at)
        return found

    def _project_entries(self, subdir: str, *, dirs: bool) -> tuple[ProjectFile, ...] | NotObserved:
        """Volume directories (`dirs`) or log files under each project's state dir."""
        found: list[ProjectFile] = []
        try:
            for project in self._projects_in_scope():
                base = self._projects_root / project / subdir
                if not base.is_dir():
                    continue
                entries: list[Path] = (
                    [e for e in base.iterdir() if e.is_dir()]
                    if dirs
                    else [e for e in base.rglob("*") if not e.is_dir()]
                )
                found += [ProjectFile(project=project, path=e) for e in sorted(entries)]
        except OSError as error:
            return NotObserved(reason=f"{subdir} under {self._projects_root}: {error}")
        return tuple(found)


async def _network(probe: Callable[[], tuple[T, ...]]) -> tuple[T, ...] | NotObserved:
    """One census probe, off the event loop; one that cannot look leaves its class
    unchecked."""
    try:
        return await asyncio.to_thread(probe)
    except CannotLook as error:
        return NotObserved(reason=str(error))
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        return NotObserved(reason=f"cannot read{where}: {error.strerror or error}")


async def leak_check(scope: Scope, settings: Settings, *, settle: timedelta) -> LeakReport:
    """One check (or, with a positive `settle`, a settled one) against the containerd the
    settings choose; never starts the embedded daemon: nothing to check there if it is down.
    """
    try:
        chosen = await choose_containerd(settings, start_embedded=False)
    except RuntimeUnavailable as error:
        return await LeakCheck(scope=scope, client=None, unreachable=str(error)).check()
    async with ContainerdClient(address=chosen.address, namespace=scope.namespace) as client:
        check = LeakCheck(scope=scope, client=client)
        if settle > timedelta(0):
            return await check.check_settled(settle)
        return await check.check()
