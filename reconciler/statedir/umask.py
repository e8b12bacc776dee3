"""The process's umask: private for what the reconciler creates, ordinary for the rest.

Why this exists: every file and directory the reconciler creates is its owner's alone,
and a umask of 0o077 makes that so for all of them at once, the ones made by libraries
and by the programs it runs on its own state (CNI plugins' address records) included.
The few files others must read (the hosts file bound into containers) are given their
mode explicitly.

But the programs it starts for others must not inherit it:
- containerd gets 0o022, as dockerd sets for itself: runc creates directories inside a
  container's root filesystem (a VOLUME destination the image lacks) with it, and a
  container whose USER is not root must be able to traverse them;
- a host service and its STOP, RELOAD and check commands get the umask the reconciler
  was started with (systemd's `UMask=`, a shell's `umask`), as before;
- `ip netns add`, which may create the host's `/run/netns`, the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

PRIVATE: Final = 0o077
DAEMON: Final = 0o022
_STATUS: Final = Path("/proc/self/status")

_started_with: int | None = None


def make_private() -> None:
    """From now on, what this process creates is its owner's alone. Idempotent: the
    umask it was started with is remembered the first time."""
    global _started_with  # noqa: PLW0603 - a fact about the process, as the umask itself is
    previous = os.umask(PRIVATE)
    if _started_with is None:
        _started_with = previous


def for_others() -> int:
    """The umask a service, or a tool acting on the host's shared places, gets: the one
    the reconciler was started with."""
    return _started_with if _started_with is not None else current()


def current() -> int:
    """The process's umask, read without changing it (`os.umask` can only swap it, which
    races with any other thread creating a file)."""
    for line in _STATUS.read_text().splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    raise RuntimeError("/proc/self/status has no Umask line")  # Linux 4.7 has it
