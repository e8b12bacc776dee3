"""Directories and files under the state dir, made and opened without following a link.

Why this exists: everything under the state dir is the reconciler's, and nothing there
is a link: the reconciler makes none. A link found there was planted, and following it
would send a write, a lock or a container's named volume anywhere on the host. So every
directory is reached from the state dir one component at a time (`openat` with
`O_NOFOLLOW | O_DIRECTORY`), made 0700 where missing and tightened to 0700 where looser
(a state dir from before this rule); a link on the way, a file where a directory should
be, or a directory another user owns is refused with one line naming it. Files are
opened relative to their directory's descriptor, with `O_NOFOLLOW`.

Invariants:
* `below` (the state dir) was checked when the command started (`check`), so it is
  opened by its path; everything under it is reached through descriptors;
* nothing here follows a link under `below`, nor changes what another user owns;
* an OSError for want of a resource (a full disk) leaves as one line naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Final

from reconciler.errors import UnsafePath
from reconciler.oserrors import translated
from reconciler.statedir.trust import owner_name

DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600
_DIRECTORY: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# What the kernel answers when O_NOFOLLOW meets a link, or O_DIRECTORY a file.
_NOT_A_PLAIN_DIRECTORY: Final = (errno.ELOOP, errno.ENOTDIR)


def open_directory(path: Path, *, below: Path, create: bool = True) -> int:
    """A descriptor of the directory `path` under `below`, every component reached
    without following a link, made 0700 where missing (with `create`; else
    `FileNotFoundError`), tightened to 0700 where looser. The caller closes it."""
    below = below.absolute()
    parts = path.absolute().relative_to(below).parts
    with translated(below):
        if create:
            os.makedirs(below, mode=DIRECTORY_MODE, exist_ok=True)
        descriptor = os.open(below, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    current = below
    try:
        for name in parts:
            current = current / name
            with translated(current):
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, DIRECTORY_MODE, dir_fd=descriptor)
                child = _open_child(descriptor, name, current)
            os.close(descriptor)
            descriptor = child
            _make_private(descriptor, current, DIRECTORY_MODE)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def make_dirs(path: Path, *, below: Path) -> None:
    """Make `path` and what is missing above it under `below`, as `open_directory`."""
    os.close(open_directory(path, below=below))


def check_dirs(path: Path, *, below: Path) -> None:
    """Refuse a link or a foreign directory on the way to `path`, as far as it exists;
    make nothing."""
    try:
        descriptor = open_directory(path, below=below, create=False)
    except FileNotFoundError:
        return
    os.close(descriptor)


def open_private_file(directory: int, name: str, path: Path, flags: int) -> int:
    """Open (creating it 0600) the regular file `name` in `directory` without following a
    link: one that is not ours is refused, one looser than 0600 tightened. `path` is its
    full path, for messages."""
    with translated(path):
        try:
            descriptor = os.open(
                name, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE, dir_fd=directory
            )
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            raise UnsafePath(_link_found(path, directory, name)) from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise UnsafePath(f"{path} is not a regular file: move it away")
        _make_private(descriptor, path, FILE_MODE)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _open_child(directory: int, name: str, path: Path) -> int:
    try:
        return os.open(name, _DIRECTORY, dir_fd=directory)
    except OSError as error:
        if error.errno not in _NOT_A_PLAIN_DIRECTORY:
            raise
        found = os.stat(name, dir_fd=directory, follow_symlinks=False)
    if stat.S_ISLNK(found.st_mode):
        raise UnsafePath(_link_found(path, directory, name))
    raise UnsafePath(f"{path} is not a directory: move it away")


def _link_found(path: Path, directory: int, name: str) -> str:
    target = os.readlink(name, dir_fd=directory)
    return (
        f"{path} is a symbolic link (to {target}), and nothing under the state dir is one: "
        "remove it (and check what was written where it points)"
    )


def _make_private(descriptor: int, path: Path, mode: int) -> None:
    """Refuse what another user owns (they could change it); tighten what is looser."""
    found = os.fstat(descriptor)
    if found.st_uid != os.geteuid():
        raise UnsafePath(
            f"{path} belongs to {owner_name(found.st_uid)}, not to the state dir's owner: "
            "remove it, or chown it back"
        )
    if stat.S_IMODE(found.st_mode) & ~mode:
        with translated(path):
            os.fchmod(descriptor, mode)
