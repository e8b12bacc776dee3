"""Processes as `/proc` shows them: identity that survives pid reuse, liveness, sessions.

A pid alone is not an identity: after a process exits the kernel may give its pid to an
unrelated process. Paired with the process's start time (field 22 of `/proc/<pid>/stat`,
clock ticks since boot) it is: no two processes share both. Every check here compares
both, and a zombie (exited, not yet reaped) counts as gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

PROC: Final = Path("/proc")


@dataclass(frozen=True, kw_only=True)
class ProcessIdentity:
    pid: int
    start_time: int


@dataclass(frozen=True, kw_only=True)
class ProcessStat:
    pid: int
    state: str
    ppid: int
    pgid: int
    session: int
    start_time: int


def parse_stat(pid: int, text: str) -> ProcessStat:
    # The command name in parentheses may itself contain spaces and parentheses.
    fields = text.rpartition(")")[2].split()
    return ProcessStat(
        pid=pid,
        state=fields[0],
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        session=int(fields[3]),
        start_time=int(fields[19]),
    )


def stat(pid: int, *, proc: Path = PROC) -> ProcessStat | None:
    try:
        return parse_stat(pid, (proc / str(pid) / "stat").read_text())
    except (OSError, IndexError, ValueError):
        return None


def identify(pid: int) -> ProcessIdentity | None:
    found = stat(pid)
    return None if found is None else ProcessIdentity(pid=pid, start_time=found.start_time)


def is_alive(process: ProcessIdentity) -> bool:
    found = stat(process.pid)
    return found is not None and found.start_time == process.start_time and found.state != "Z"


def all_processes(*, proc: Path = PROC) -> list[ProcessStat]:
    found = []
    for entry in proc.iterdir():
        if entry.name.isdigit() and (process := stat(int(entry.name), proc=proc)) is not None:
            found.append(process)
    return found


def session_members(leader: ProcessIdentity) -> list[int]:
    """Live processes in the session `leader` started (itself included while it lives).

    A session id stays reserved while any member lives, so members started after the
    leader belong to it; this misses only processes that left the session (setsid),
    which the service's cgroup or its supervisor catches.
    """
    return sorted(
        p.pid
        for p in all_processes()
        if p.session == leader.pid and p.start_time >= leader.start_time and p.state != "Z"
    )


def descendants(ancestor: int) -> list[int]:
    """Live descendants of `ancestor` (not itself), by parent links."""
    children: dict[int, list[int]] = {}
    states = {}
    for p in all_processes():
        children.setdefault(p.ppid, []).append(p.pid)
        states[p.pid] = p.state
    found, queue = [], list(children.get(ancestor, []))
    while queue:
        pid = queue.pop()
        if states.get(pid) != "Z":
            found.append(pid)
        queue.extend(children.get(pid, []))
    return sorted(found)
