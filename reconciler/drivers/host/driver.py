"""The host driver: the controllers' `Driver` protocol for RUN services as host processes.

A unit is a record file (see `record`); its process runs under a supervisor (see
`supervisor`), which outlives the reconciler and writes the exit code. Everything is read
back from those files and `/proc` on every call, so a restarted reconciler, or another
`status` process, sees exactly what one that never stopped would: running processes are
adopted, never started twice (the unit's lock, held by its supervisor, says a start is
under way or running), and exits that happened meanwhile are found in the run files.

Events: the exit of a process is learned by polling the run files every
`EVENT_POLL_SECONDS`. A pipe or socket from the supervisors would be quicker but is lost
whenever the reconciler restarts, and the run files must be read then anyway; a fifth of
a second is well inside the "under a second" the product promises, and a scan of a few
small files costs nothing.

Stop: STOP (with `MAINPID` set, as systemd does) or SIGTERM to the service's process
group; up to TIMEOUT_STOP for the main process to exit; then SIGKILL to all of it (its
cgroups, its session, its supervisor's descendants). Where there is no cgroup the label
`orch.kill-scope=session` says that processes which left the session could only be
caught while their supervisor lived. Limits that could not be applied are named in
`orch.limits-unapplied`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final

from reconciler.clock import Clock
from reconciler.drivers.host import cgroups, control, procfs, scan
from reconciler.drivers.host.launch import launch_spec, start_supervisor
from reconciler.drivers.host.record import (
    RunState,
    UnitFiles,
    UnitRecord,
    read_record,
    read_run,
    write_record,
)
from reconciler.errors import Conflict, NotFound, RuntimeFailure
from reconciler.model import labels
from reconciler.model.desired import HOST_UNITS_DIR, DesiredService, ResourceLimits, ServiceMode
from reconciler.model.events import Resynced, RuntimeEvent, UnitDeleted, UnitExited
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ImageMissing, ServiceInputs
from reconciler.model.observed import (
    Observation,
    Observed,
    Unreachable,
)
from reconciler.model.secret import Secret
from reconciler.orchfile.envfile import read_env_files

LIMITS_UNAPPLIED: Final = "orch.limits-unapplied"
KILL_SCOPE: Final = "orch.kill-scope"
EVENT_POLL_SECONDS: Final = 0.2
KILL_WAIT_SECONDS: Final = 30.0
KILL_POLL_SECONDS: Final = 0.05
HOST_DIR: Final = HOST_UNITS_DIR


RELOAD_LIMIT: Final = timedelta(seconds=30)


class HostDriver:
    def __init__(
        self,
        *,
        project: str,
        namespace: str,
        state_dir: Path,
        clock: Clock,
    ) -> None:
        self._project = project
        self._namespace = namespace
        self._state_dir = state_dir
        self._directory = state_dir / HOST_DIR
        self._clock = clock
        self._cgroups = cgroups.detect()

    @property
    def mode(self) -> ServiceMode:
        return ServiceMode.HOST

    def unit_id(self, service: str) -> str:
        return labels.container_id(self._project, service)

    def _files(self, unit_id: str) -> UnitFiles:
        return UnitFiles(directory=self._directory, unit_id=unit_id)

    # Observation

    async def observe(self, project: str | None) -> Observation:
        try:
            units, headless = await asyncio.to_thread(scan.units, self._state_dir, project)
        except (OSError, RuntimeFailure) as error:
            return Unreachable(
                namespace=self._namespace,
                reason=f"host units under {self._state_dir}: {error}",
                observed_at=self._clock.now(),
            )
        return Observed(
            namespace=self._namespace,
            project=project,
            observed_at=self._clock.now(),
            units=tuple(units),
            headless_tasks=tuple(headless),
        )

    async def orphan_processes(self, project: str | None) -> list[tuple[str, int]]:
        """(unit id, pid) of processes still alive whose run file outlived the unit's
        record: the unit was deleted while its process ran."""
        return await asyncio.to_thread(scan.orphans, self._state_dir, project)

    # Inputs and creation

    async def inputs(
        self, service: DesiredService, *, fetch: bool, look_up: bool = False
    ) -> ServiceInputs | ImageMissing:
        env_files = await asyncio.to_thread(read_env_files, service)
        return ServiceInputs(image_digest=None, env_files=env_files)

    async def create(self, service: DesiredService, fingerprint: Fingerprint) -> None:
        unit_id = self.unit_id(service.name)
        files = self._files(unit_id)
        existing = await asyncio.to_thread(read_record, files.record)
        if existing is not None:
            if not labels.is_ours(existing.labels):
                raise Conflict(f"host unit '{unit_id}' exists and is not the reconciler's")
            if existing.labels.get(labels.CONFIG_HASH) == fingerprint.config_hash:
                return
            raise Conflict(f"host unit '{unit_id}' exists with another configuration")
        launch = await asyncio.to_thread(launch_spec, service, state_dir=self._state_dir)
        record = UnitRecord(
            id=unit_id,
            labels=MappingProxyType(
                {
                    **labels.ours(),
                    labels.PROJECT: self._project,
                    labels.SERVICE: service.name,
                    labels.CONFIG_HASH: fingerprint.config_hash,
                    labels.CONFIG_PARTS: fingerprint.parts_label(),
                    labels.STOP_TIMEOUT: f"{service.timeout_stop.total_seconds():g}",
                }
            ),
            created_at=self._clock.now(),
            launch=launch,
        )
        await asyncio.to_thread(write_record, files.record, record)

    async def _require(self, unit_id: str) -> UnitRecord:
        record = await asyncio.to_thread(read_record, self._files(unit_id).record)
        if record is None:
            raise NotFound(f"host unit '{unit_id}' does not exist")
        if not labels.is_ours(record.labels):
            raise Conflict(f"host unit '{unit_id}' is not the reconciler's; not labelled")
        return record

    async def _ours_or_none(self, unit_id: str) -> UnitRecord | None:
        try:
            return await self._require(unit_id)
        except NotFound:
            return None

    # Starting

    async def start(self, service: DesiredService) -> None:
        unit_id = self.unit_id(service.name)
        record = await self._require(unit_id)
        files = self._files(unit_id)
        lock = os.open(files.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if not await self._take_lock(lock, files):
                return  # a live supervisor runs the service
            run = await asyncio.to_thread(read_run, files.run)
            if run is not None and run.process is not None and procfs.is_alive(run.process):
                return  # its supervisor was killed; the service still runs: adopt it
            if run is not None:
                await self._clear(record, run)
            await self._spawn(record, files, lock, service.resources)
        finally:
            os.close(lock)

    async def _take_lock(self, lock: int, files: UnitFiles) -> bool:
        """Lock the unit; False when a live supervisor holds the lock and runs the service.

        The lock is also held by a supervisor that is being started (its run not written
        yet) or that is clearing up after its service exited: both are waited for."""
        deadline = self._clock.deadline(KILL_WAIT_SECONDS)
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                run = await asyncio.to_thread(read_run, files.run)
                if run is not None and run.exit_code is None:
                    return False
                if deadline.passed:
                    raise RuntimeFailure(
                        f"host unit '{files.unit_id}': its supervisor neither starts nor ends"
                    ) from None
                await self._clock.sleep(KILL_POLL_SECONDS)

    async def _spawn(
        self, record: UnitRecord, files: UnitFiles, lock: int, limits: ResourceLimits
    ) -> None:
        setup = await asyncio.to_thread(
            cgroups.setup, self._cgroups, self._namespace, record.id, limits
        )
        updated = dict(record.labels)
        updated.pop(LIMITS_UNAPPLIED, None)
        if setup.unapplied:
            updated[LIMITS_UNAPPLIED] = "; ".join(setup.unapplied)
        updated[KILL_SCOPE] = "cgroup" if setup.paths else "session"
        record = replace(
            record,
            labels=MappingProxyType(updated),
            cgroups=tuple(str(path) for path in setup.paths),
        )
        await asyncio.to_thread(write_record, files.record, record)
        try:
            await start_supervisor(record, files, lock, clock=self._clock)
        except BaseException:
            # A start that failed leaves nothing behind: no process got into the cgroups
            # (or the supervisor killed it), so they go with the failure.
            await asyncio.to_thread(cgroups.remove, list(setup.paths))
            raise

    async def _clear(self, record: UnitRecord, run: RunState) -> None:
        """End whatever is left of `run` (its supervisor first, which records the exit and
        kills what it can), then delete the run file and the cgroups."""
        paths = [Path(p) for p in record.cgroups]
        if not await control.wait_exit(run.supervisor, KILL_WAIT_SECONDS, clock=self._clock):
            with contextlib.suppress(ProcessLookupError):
                if procfs.is_alive(run.supervisor):
                    os.kill(run.supervisor.pid, signal.SIGKILL)
            await control.wait_exit(run.supervisor, KILL_WAIT_SECONDS, clock=self._clock)
        left = await control.kill_all(
            run.process, paths, within=KILL_WAIT_SECONDS, clock=self._clock
        )
        if left:
            raise RuntimeFailure(
                f"host unit '{record.id}': processes {sorted(left)} survive SIGKILL"
            )
        failed = await asyncio.to_thread(cgroups.remove, paths)
        if failed:
            raise RuntimeFailure(f"host unit '{record.id}': cgroups left: {'; '.join(failed)}")
        self._files(record.id).run.unlink(missing_ok=True)

    async def reload(self, service: DesiredService, fingerprint: Fingerprint) -> None:
        """Run RELOAD against the running process (`MAINPID` set), with the service's new
        environment, and take on the new fingerprint: ENV_FILE contents the process
        re-reads. A RELOAD that fails (or a process that is not running) is an error, and
        the caller restarts the service instead."""
        unit_id = self.unit_id(service.name)
        record = await self._require(unit_id)
        if service.reload_command is None:
            raise RuntimeFailure(f"service '{service.name}' has no RELOAD")
        run = await asyncio.to_thread(read_run, self._files(unit_id).run)
        main = run.process if run is not None else None
        if main is None or run is None or run.exit_code is not None or not procfs.is_alive(main):
            raise RuntimeFailure(f"service '{service.name}' is not running; nothing to reload")
        launch = await asyncio.to_thread(launch_spec, service, state_dir=self._state_dir)
        code = await control.run_in_context(
            launch,
            service.reload_command,
            limit=RELOAD_LIMIT,
            clock=self._clock,
            extra_env={"MAINPID": Secret(str(main.pid))},
        )
        if code != 0:
            raise RuntimeFailure(
                f"service '{service.name}': RELOAD "
                + ("timed out" if code is None else f"exited with code {code}")
            )
        updated = {
            **record.labels,
            labels.CONFIG_HASH: fingerprint.config_hash,
            labels.CONFIG_PARTS: fingerprint.parts_label(),
        }
        await asyncio.to_thread(
            write_record,
            self._files(unit_id).record,
            replace(record, labels=MappingProxyType(updated), launch=launch),
        )

    # Stopping and removing

    async def stop(self, unit_id: str, *, grace: timedelta) -> None:
        record = await self._ours_or_none(unit_id)
        if record is None:
            return
        files = self._files(unit_id)
        run = await asyncio.to_thread(read_run, files.run)
        if run is None:
            failed = await asyncio.to_thread(cgroups.remove, [Path(p) for p in record.cgroups])
            if failed:
                raise RuntimeFailure(f"host unit '{unit_id}': cgroups left: {'; '.join(failed)}")
            return
        main = run.process
        if run.exit_code is None and main is not None and procfs.is_alive(main):
            deadline = self._clock.deadline(grace)
            stop_command = record.launch.stop_command
            if stop_command is not None:
                await control.run_in_context(
                    record.launch,
                    stop_command,
                    limit=grace,
                    clock=self._clock,
                    extra_env={"MAINPID": Secret(str(main.pid))},
                )
            else:
                control.signal_group(main, signal.SIGTERM)
            if not await control.wait_exit(main, deadline.remaining(), clock=self._clock):
                control.signal_group(main, signal.SIGKILL)
        await self._clear(record, run)

    async def remove(self, unit_id: str, *, grace: timedelta) -> None:
        record = await self._ours_or_none(unit_id)
        if record is None:
            return
        await self.stop(unit_id, grace=grace)
        files = self._files(unit_id)
        files.record.unlink(missing_ok=True)
        files.lock.unlink(missing_ok=True)

    # Checks and bookkeeping

    async def check(self, unit_id: str, command: str, *, limit: timedelta) -> int | None:
        record = await self._require(unit_id)
        return await control.run_in_context(record.launch, command, limit=limit, clock=self._clock)

    async def release_project(self) -> None:
        """Host services hold nothing beyond their units."""

    async def tidy(self, observed: Observed) -> None:
        """Nothing of a host service outlives its unit record."""

    def network_namespace(self, unit_id: str) -> Path | None:
        return None  # host services run in the host's network

    async def annotate(self, unit_id: str, changes: Mapping[str, str | None]) -> None:
        record = await self._ours_or_none(unit_id)
        if record is None:
            return
        updated = dict(record.labels)
        for name, value in changes.items():
            if value is None:
                updated.pop(name, None)
            else:
                updated[name] = value
        await asyncio.to_thread(
            write_record,
            self._files(unit_id).record,
            replace(record, labels=MappingProxyType(updated)),
        )

    # Events

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        yield Resynced()
        known: dict[str, scan.ExitState] | None = await self._exit_states()
        while True:
            await self._clock.sleep(EVENT_POLL_SECONDS)
            try:
                current = await self._exit_states()
            except (OSError, RuntimeFailure):
                known = None
                continue
            if known is None:
                yield Resynced()
            else:
                for unit_id, state in current.items():
                    if state.exit_code is not None and known.get(unit_id) != state:
                        yield UnitExited(
                            unit_id=unit_id, exit_code=state.exit_code, exited_at=state.exited_at
                        )
                for unit_id in known.keys() - current.keys():
                    yield UnitDeleted(unit_id=unit_id)
            known = current

    async def _exit_states(self) -> dict[str, scan.ExitState]:
        return await asyncio.to_thread(scan.exit_states, self._directory)
