"""Which process holds a lease: `<pid>@<start time>`, in the lease's `orch.owner` label.

Why: a lease protects work in flight (an import, a create) until it expires, minutes
later. One whose process was killed is left over until then; one whose process still
runs is work in flight, not a leak. The pid alone could have been reused; with the
process's start time (`/proc/PID/stat`, field 22, in clock ticks since boot) it names
one process for the life of the host.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

PROC: Final = Path("/proc")


def identity(pid: int, proc: Path = PROC) -> str | None:
    """`<pid>@<start ticks>` of a live process; None when there is none."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return f"{pid}@{fields[19]}" if len(fields) > 19 else None


def this_process() -> str:
    return identity(os.getpid()) or f"{os.getpid()}@0"


def is_gone(owner: str, proc: Path = PROC) -> bool:
    """The process a lease names is no longer running (a malformed name: unknown, False)."""
    pid, at, _ = owner.partition("@")
    if not pid.isdigit() or not at:
        return False
    return identity(int(pid), proc) != owner
