"""The host's refusals of a file operation, as one line naming the path and what to do.

Why this exists: a full disk, no free inodes, too many open files, a read-only or
unwritable state dir are not bugs, and must not end as `internal error: OSError: [Errno
28] No space left on device` naming nothing. They are translated in a few central
places: the CLI (whatever escaped), the engine's action executor (a driver's write), and
the writers of the state dir (the lock, unit and network records, the hosts file, its
directories), which know the path when the OSError does not (`write`, `fsync` and
`pwrite` name none).

Every other OSError stays what it is: a bug, or a failure its caller handles.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.errors import HostResourceError

# Exhausted resources: a path (or not) is enough to say what to do.
EXHAUSTED: Final = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE})
# Refused rights: too common elsewhere (a signal, a chown) to be told without a path.
REFUSED: Final = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What a message needs besides the errno and the path, read from the host."""

    inodes_exhausted: bool = False
    open_files_limit: int | None = None


def message(code: int, path: str | None, facts: Facts) -> str | None:
    """The line for `code` at `path`; None when the errno is not one of ours, or when a
    refused right names no path (then it is no file operation we can explain)."""
    at = f" at {path}" if path else ""
    holding = f"the filesystem holding {path}" if path else "a filesystem"
    where = f" {os.path.dirname(path) or path}" if path else ""
    match code:
        case errno.ENOSPC if facts.inodes_exhausted:
            return f"no free inodes left on {holding}: remove files there (df -i{where})"
        case errno.ENOSPC:
            return f"no space left on {holding}: free space there (df -h{where})"
        case errno.EDQUOT:
            return f"disk quota exceeded on {holding}: free space there or raise the quota"
        case errno.EMFILE:
            limit = f" (limit {facts.open_files_limit})" if facts.open_files_limit else ""
            return (
                f"too many open files in this process{limit}{at}: raise the limit "
                "(ulimit -n; LimitNOFILE= in a systemd unit)"
            )
        case errno.ENFILE:
            return (
                f"the system's table of open files is full{at}: close files elsewhere or "
                "raise fs.file-max"
            )
    if not path:
        return None
    match code:
        case errno.EROFS:
            return (
                f"{path} is on a read-only filesystem: remount it read-write, or choose "
                "another --state-dir"
            )
        case errno.EACCES | errno.EPERM:
            what = "permission denied" if code == errno.EACCES else "operation not permitted"
            return (
                f"{what} on {path}: run as the user who owns it (root for "
                "/var/lib/reconciler), or choose a --state-dir of your own"
            )
    return None


def host_error(error: OSError, path: Path | str | None = None) -> HostResourceError | None:
    """`error` as a `HostResourceError` naming its path (the OSError's own, else `path`);
    None for an OSError that is not the host refusing a resource or a right."""
    if error.errno not in EXHAUSTED | REFUSED:
        return None
    # An `openat`-style call names its path relative to a descriptor: the caller's wins.
    named = error.filename if isinstance(error.filename, str) else None
    if named is not None and not os.path.isabs(named):
        named = None
    where = named or (str(path) if path is not None else None)
    text = message(error.errno, where, _facts(error.errno, where))
    return HostResourceError(text) if text is not None else None


@contextlib.contextmanager
def translated(path: Path | str) -> Iterator[None]:
    """Run the block; an OSError the host raised for want of a resource or a right leaves
    it as a `HostResourceError` naming `path` (or the OSError's own path)."""
    try:
        yield
    except OSError as error:
        known = host_error(error, path)
        if known is None:
            raise
        raise known from error


def _facts(code: int | None, path: str | None) -> Facts:
    if code == errno.EMFILE:
        return Facts(open_files_limit=resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    if code == errno.ENOSPC and path:
        return Facts(inodes_exhausted=_no_free_inodes(Path(path)))
    return Facts()


def _no_free_inodes(path: Path) -> bool:
    """True when the filesystem holding `path` (or its nearest existing parent) has
    blocks left but no inodes: ENOSPC is the kernel's answer to both."""
    for candidate in (path, *path.parents):
        try:
            found = os.statvfs(candidate)
        except OSError:
            continue
        return found.f_files > 0 and found.f_favail == 0 and found.f_bavail > 0
    return False
