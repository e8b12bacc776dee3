"""Whether another user could change a path: the rules, and resolving a path by them.

Why this exists: the reconciler runs as root and writes, locks and mounts by path. A
path is only as safe as every directory and link on the way to it: a directory another
user owns or can write lets them swap what is below it; a link they can change sends
our write, or a container's mount, wherever they like. The rules say what is safe;
`resolve` walks a path as the kernel would, one component at a time, and refuses the
first thing on the way that fails them.

Rules (`me` is our effective uid; root is trusted by everyone):
- a directory is safe when root or `me` owns it and neither its group nor others can
  write it, or they can but it is sticky (`/tmp`: nobody renames or removes what is not
  theirs);
- a link is followed only when root or `me` owns it and the directory holding it is
  safe: nobody else could have made it, nor can replace it.
"""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path
from typing import Final

from reconciler.errors import UnsafePath

ROOT: Final = 0
# The kernel's own bound on the links one lookup follows (MAXSYMLINKS).
MAX_LINKS: Final = 40


def owner_name(uid: int) -> str:
    try:
        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"uid {uid}"


def directory_problem(path: Path, *, uid: int, mode: int, me: int) -> str | None:
    """Why another user could change what is in the directory; None when only root or
    `me` can."""
    if uid not in (ROOT, me):
        return f"{path} belongs to {owner_name(uid)}"
    writers = [
        who for who, bit in (("its group", stat.S_IWGRP), ("others", stat.S_IWOTH)) if mode & bit
    ]
    if writers and not mode & stat.S_ISVTX:
        return f"{path} is writable by {' and '.join(writers)}"
    return None


def link_problem(path: Path, *, uid: int, holder_uid: int, holder_mode: int, me: int) -> str | None:
    """Why the link at `path` may not be followed; None when only root or `me` could
    have made it, or could replace it (`holder_*`: the directory holding it)."""
    if uid not in (ROOT, me):
        return f"{path} is a symbolic link owned by {owner_name(uid)}"
    holder = directory_problem(path.parent, uid=holder_uid, mode=holder_mode, me=me)
    if holder is not None:
        return f"{path} is a symbolic link in a directory another user can change ({holder})"
    return None


def resolve(path: Path, *, me: int, directories: bool) -> Path:
    """`path` with its links resolved, as the kernel would resolve it; `UnsafePath`
    naming the first thing on the way another user could change: a link that fails the
    rules, and, with `directories`, any directory passed through (its last component
    included). Whatever does not exist yet ends the walk: the rest is returned as
    written, normalized."""
    if not path.is_absolute():
        raise ValueError(f"{path} is not absolute")
    pending = list(reversed(path.parts[1:]))
    current = Path("/")
    held = os.lstat(current)
    if directories:
        _check_directory(current, held, me)
    followed = 0
    while pending:
        name = pending.pop()
        if name == "..":
            current = current.parent
            held = os.lstat(current)
            continue
        candidate = current / name
        try:
            found = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            return Path(os.path.normpath(Path(candidate, *reversed(pending))))
        if stat.S_ISLNK(found.st_mode):
            problem = link_problem(
                candidate, uid=found.st_uid, holder_uid=held.st_uid, holder_mode=held.st_mode, me=me
            )
            if problem is not None:
                raise UnsafePath(f"{problem} (to {os.readlink(candidate)})")
            followed += 1
            if followed > MAX_LINKS:
                raise UnsafePath(f"{path}: too many levels of symbolic links")
            target = Path(os.readlink(candidate))
            if target.is_absolute():
                current = Path("/")
                held = os.lstat(current)
            pending.extend(reversed(target.parts[1:] if target.is_absolute() else target.parts))
            continue
        if directories and stat.S_ISDIR(found.st_mode):
            _check_directory(candidate, found, me)
        current, held = candidate, found
    return current


def _check_directory(path: Path, found: os.stat_result, me: int) -> None:
    problem = directory_problem(path, uid=found.st_uid, mode=found.st_mode, me=me)
    if problem is not None:
        raise UnsafePath(problem)
