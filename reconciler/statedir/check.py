"""Whether a state dir may be used: checked when a command starts, before it reads or
writes anything there.

Why this exists: whoever can write the state dir can plant a unit record (whose command
root then runs), a link under it (that root then writes through), or hold its locks. So
a command refuses, in one line, a state dir that

- is not a directory, or belongs to someone else than the user running the command
  (root for `/var/lib/reconciler`; a user's own for theirs);
- its group or others can write (sticky or not: it is ours alone);
- is reached through a link another user could change; or, for the default state dir
  (`/var/lib/reconciler`, `$XDG_STATE_HOME/reconciler`), through a directory another
  user could change (one the user picked with `--state-dir` is theirs to vouch for).

A writing command then makes it (0700) when missing and tightens it to 0700 when looser
(a state dir made before these rules, 0755): nothing under it is reachable by others.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from reconciler.errors import UnsafePath
from reconciler.oserrors import translated
from reconciler.statedir.trust import owner_name, resolve

DIRECTORY_MODE = 0o700


def check_state_dir(path: Path, *, default: bool, create: bool) -> None:
    """Refuse (`UnsafePath`, one line) a state dir another user could change; with
    `create`, make it when missing and tighten it to 0700."""
    me = os.geteuid()
    try:
        real = resolve(path, me=me, directories=default)
    except UnsafePath as unsafe:
        raise UnsafePath(
            f"state dir {path}: {unsafe}: only root (or you) may be able to change the "
            "way to it; fix that or choose another --state-dir"
        ) from None
    try:
        found = os.lstat(real)
    except FileNotFoundError:
        if create:
            with translated(real):
                os.makedirs(real, mode=DIRECTORY_MODE, exist_ok=True)
        return
    problem = state_dir_problem(path, uid=found.st_uid, mode=found.st_mode, me=me)
    if problem is not None:
        raise UnsafePath(f"state dir {problem}")
    if create and stat.S_IMODE(found.st_mode) & ~DIRECTORY_MODE:
        with translated(real):
            os.chmod(real, DIRECTORY_MODE)


def state_dir_problem(path: Path, *, uid: int, mode: int, me: int) -> str | None:
    """Why the state dir itself may not be used; None when it is ours alone."""
    if not stat.S_ISDIR(mode):
        return f"{path} is not a directory: move it away, or choose another --state-dir"
    if uid != me:
        return (
            f"{path} belongs to {owner_name(uid)}, not to you ({owner_name(me)}): run as "
            "its owner, or choose a --state-dir of your own"
        )
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"{path} is writable by others (mode {stat.S_IMODE(mode):04o}): check nothing "
            "was planted in it, then chmod 0700 it"
        )
    return None
