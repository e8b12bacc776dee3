"""The host side of a container's VOLUMEs, made ready before containerd mounts them.

Named volumes: one directory per volume under the project's state dir, made once. Like
Docker, a new volume takes the mode and owner of the image's directory at its
destination (so an image whose process is not root can write to it), else 0755 and
root's. Every directory from the project's directory down to it is reached without
following a link (`statedir.tree`; the command made the project's directory from the
state dir down the same way, `app.state_dir`): a link planted anywhere on the way is
refused, naming it, and the volume itself is opened, chowned and chmodded through its
descriptor.

Bind mounts: the source is resolved once, here, and the spec names the resolved path,
so runc mounts what was checked, not what a link points to later. A link on the way is
followed only when no other user could have made it or can replace it (`statedir.trust`:
root's or ours, in a directory only root or we can write): `/var/run` -> `/run` is fine,
a link in another user's home directory is refused, naming it (write the path it points
to in the Orchfile instead).

Both are checked again at every task start, since a restart reuses the spec: a link
planted since the container was created is refused then. What remains is the moment
between that check and runc's mount, for a source in a directory another user can write.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Final

from reconciler.drivers.containerd.rootfs import directory_mode
from reconciler.drivers.containerd.types import Mount
from reconciler.errors import UnsafePath
from reconciler.model.desired import BindMount, DesiredService, NamedVolume, Volume
from reconciler.oserrors import translated
from reconciler.statedir.tree import open_directory
from reconciler.statedir.trust import resolve

# A new volume with nothing at its destination in the image: Docker's mode, readable by
# a process of any user (the reconciler's own umask would make it root's alone).
NEW_VOLUME_MODE: Final = 0o755
_VOLUME_FLAGS: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def prepare(service: DesiredService, rootfs: Sequence[Mount]) -> DesiredService:
    """`service` as its spec should mount it: its named volumes made (the image's
    directories read from `rootfs`), its bind sources resolved. `UnsafePath` for a link
    another user could change, or any link under the state dir."""
    volumes: list[Volume] = []
    for volume in service.volumes:
        match volume:
            case NamedVolume():
                _make_named(service, volume, rootfs)
                volumes.append(volume)
            case BindMount():
                volumes.append(replace(volume, source=_resolved(service, volume)))
    return replace(service, volumes=tuple(volumes))


def _resolved(service: DesiredService, volume: BindMount) -> Path:
    try:
        return resolve(volume.source, me=os.geteuid(), directories=False)
    except UnsafePath as unsafe:
        raise UnsafePath(
            f"service '{service.name}': VOLUME source {volume.source}: {unsafe}; write the "
            "path it points to in the Orchfile, or make the link root's"
        ) from None


def _make_named(service: DesiredService, volume: NamedVolume, rootfs: Sequence[Mount]) -> None:
    path = volume.host_path
    # `<project dir>/volumes/<name>` (`model.desired.ProjectPaths`).
    project_dir = path.parent.parent
    try:
        parent = open_directory(path.parent, below=project_dir)
    except UnsafePath as unsafe:
        raise UnsafePath(
            f"service '{service.name}': named volume '{volume.name}': {unsafe}"
        ) from None
    try:
        with translated(path):
            created = True
            try:
                os.mkdir(path.name, 0o700, dir_fd=parent)
            except FileExistsError:
                created = False
            try:
                descriptor = os.open(path.name, _VOLUME_FLAGS, dir_fd=parent)
            except OSError as error:
                if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                raise UnsafePath(
                    f"service '{service.name}': named volume '{volume.name}' is a symbolic "
                    f"link or no directory ({path}); refusing to mount it: remove it"
                ) from None
            try:
                if created:
                    _take_image_mode(descriptor, rootfs, volume.destination)
            finally:
                os.close(descriptor)
    finally:
        os.close(parent)


def _take_image_mode(descriptor: int, rootfs: Sequence[Mount], destination: str) -> None:
    image_dir = directory_mode(rootfs, destination)
    if image_dir is None:
        os.fchmod(descriptor, NEW_VOLUME_MODE)
        return
    mode, uid, gid = image_dir
    os.fchown(descriptor, uid, gid)
    os.fchmod(descriptor, mode)
