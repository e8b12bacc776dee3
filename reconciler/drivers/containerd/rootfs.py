"""Read a file of an image's root filesystem through a snapshot's mounts, without mounting.

The overlayfs snapshotter hands back either a `bind` mount of one directory or an
`overlay` mount whose `upperdir` and `lowerdir=a:b:c` options list directories, upper
first then lower layers top-down. A file is the first one found in that order; a
character device with device number 0:0 on the way is an overlay whiteout (the file was
deleted in an upper layer). Reading the directories directly avoids a mount, which would
need cleanup of its own (docs/containerd.md, "Containers").
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from reconciler.drivers.containerd.types import Mount

MAX_FILE_BYTES = 1 << 20


def layer_directories(mounts: Sequence[Mount]) -> list[Path]:
    directories: list[Path] = []
    for mount in mounts:
        if mount.type == "bind":
            directories.append(Path(mount.source))
        elif mount.type == "overlay":
            options = dict(o.split("=", 1) for o in mount.options if "=" in o)
            if "upperdir" in options:
                directories.append(Path(options["upperdir"]))
            directories.extend(Path(d) for d in options.get("lowerdir", "").split(":") if d)
    return directories


def find(mounts: Sequence[Mount], path: str) -> tuple[Path, os.stat_result] | None:
    """Where `path` (absolute, inside the image) is on the host, and its `lstat`; None
    when no layer has it or an upper layer deleted it. Symbolic links are not followed:
    they point into the container's root, and on the host they could point anywhere."""
    relative = path.lstrip("/")
    for directory in layer_directories(mounts):
        candidate = directory / relative
        try:
            info = candidate.lstat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        if stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(0, 0):
            return None
        return candidate, info
    return None


def read_file(mounts: Sequence[Mount], path: str) -> str | None:
    """The text of the regular file `path` inside the image, or None."""
    found = find(mounts, path)
    if found is None or not stat.S_ISREG(found[1].st_mode):
        return None
    with found[0].open("rb") as handle:
        return handle.read(MAX_FILE_BYTES).decode("utf-8", errors="replace")


def directory_mode(mounts: Sequence[Mount], path: str) -> tuple[int, int, int] | None:
    """(permission bits, uid, gid) of the directory `path` inside the image, or None."""
    found = find(mounts, path)
    if found is None or not stat.S_ISDIR(found[1].st_mode):
        return None
    info = found[1]
    return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid
