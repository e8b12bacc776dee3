"""What the host units' files and `/proc` say, read afresh on every call.

A unit is its record file; its process is whatever its run file names and `/proc` still
shows (`procfs`, which tells a reused pid from the same process). Everything the host
driver observes comes from here: the units of a project or of all projects, the
processes whose record is gone (orphans), the records without a unit (headless runs),
and the exit state of every unit, which the driver polls for events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from reconciler.drivers.host import procfs
from reconciler.drivers.host.record import (
    RunState,
    UnitFiles,
    UnitRecord,
    read_record,
    read_run,
    run_ids,
    unit_ids,
)
from reconciler.model import labels
from reconciler.model.desired import HOST_UNITS_DIR, ServiceMode
from reconciler.model.observed import ObservedTask, ObservedUnit, TaskPhase

# An exit nobody could record (the supervisor was killed with its service), reported
# as containerd reports a task whose exit it lost.
EXIT_UNKNOWN: Final = 255


def task_of(run: RunState | None) -> ObservedTask | None:
    """What a run file and `/proc` say of a unit's process."""
    if run is None:
        return None
    pid = run.process.pid if run.process is not None else 0
    if run.exit_code is not None:
        return ObservedTask(
            phase=TaskPhase.STOPPED, pid=pid, exit_code=run.exit_code, exited_at=run.exited_at
        )
    if run.process is not None and procfs.is_alive(run.process):
        return ObservedTask(phase=TaskPhase.RUNNING, pid=pid)
    if procfs.is_alive(run.supervisor):
        # The service just ended; its supervisor is clearing up and about to record it.
        return ObservedTask(phase=TaskPhase.RUNNING, pid=pid)
    return ObservedTask(phase=TaskPhase.STOPPED, pid=pid, exit_code=EXIT_UNKNOWN)


def directories(state_dir: Path, project: str | None) -> list[Path]:
    """The host-unit folders of `project`, or of every project beside it."""
    projects = state_dir.parent
    if project is not None:
        return [projects / project / HOST_UNITS_DIR]
    try:
        return sorted(entry / HOST_UNITS_DIR for entry in projects.iterdir() if entry.is_dir())
    except FileNotFoundError:
        return []


def units(state_dir: Path, project: str | None) -> tuple[list[ObservedUnit], list[str]]:
    """Our units, and the ids of runs still going whose record is gone (headless)."""
    found, headless = [], []
    for directory in directories(state_dir, project):
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(f"{directory} is not a directory")
        ids = unit_ids(directory)
        for unit_id in ids:
            files = UnitFiles(directory=directory, unit_id=unit_id)
            record = read_record(files.record)
            if record is None or not labels.is_ours(record.labels):
                continue
            if project is not None and record.labels.get(labels.PROJECT) != project:
                continue
            found.append(unit_of(record, read_run(files.run)))
        for unit_id in run_ids(directory):
            run = read_run(UnitFiles(directory=directory, unit_id=unit_id).run)
            if unit_id not in ids and run is not None and run.exit_code is None:
                headless.append(unit_id)
    return found, headless


def orphans(state_dir: Path, project: str | None) -> list[tuple[str, int]]:
    """(unit id, pid) of processes still alive whose run file outlived the unit's
    record: the unit was deleted while its process ran."""
    found = []
    for directory in directories(state_dir, project):
        records = set(unit_ids(directory))
        for unit_id in run_ids(directory):
            if unit_id in records:
                continue
            run = read_run(UnitFiles(directory=directory, unit_id=unit_id).run)
            if run is not None and run.process is not None and procfs.is_alive(run.process):
                found.append((unit_id, run.process.pid))
    return found


def unit_of(record: UnitRecord, run: RunState | None) -> ObservedUnit:
    supervisor = () if run is None or not procfs.is_alive(run.supervisor) else (run.supervisor.pid,)
    return ObservedUnit.from_labels(
        id=record.id,
        mode=ServiceMode.HOST,
        labels=record.labels,
        created_at=record.created_at,
        task=task_of(run),
        shim_pids=supervisor,
    )


@dataclass(frozen=True, kw_only=True)
class ExitState:
    """What a poll compares: which run it is, and how it ended (None: it has not)."""

    run: tuple[procfs.ProcessIdentity, datetime] | None
    exit_code: int | None
    exited_at: datetime | None


def exit_states(directory: Path) -> dict[str, ExitState]:
    """The exit state of every unit of ours in one project's host-unit folder."""
    states = {}
    for unit_id in unit_ids(directory):
        files = UnitFiles(directory=directory, unit_id=unit_id)
        record = read_record(files.record)
        if record is None or not labels.is_ours(record.labels):
            continue
        run = read_run(files.run)
        task = task_of(run)
        states[unit_id] = ExitState(
            run=None if run is None else (run.supervisor, run.started_at),
            exit_code=task.exit_code if task is not None else None,
            exited_at=task.exited_at if task is not None else None,
        )
    return states
