"""The `/etc/hosts` every container of a project sees: every service by its name. Pure
rendering, and writing in place.

Why a hosts file and not a DNS server: the names of a project are few, known to the
reconciler alone, and change only when it recreates a container; a file it rewrites then
is all that is needed, with no process to keep running. Each name resolves as `web` and
`web.<project>`; `host.orch.internal` is the bridge's gateway, the host itself, so a
container reaches a RUN service. The file is bind-mounted read-only into each container,
so it is rewritten in place (same inode), never replaced: a mount holds the inode. It
and the project's resolv.conf are the files of the state dir others may read (0644, as
the host's own): a container's process reads them through their bind mounts whatever
its USER, while the directories above stay 0700 (a bind mount needs no way to its
source: runc makes it as root).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from reconciler.oserrors import translated

HOST_NAME: Final = "host.orch.internal"
READABLE: Final = 0o644
HEADER: Final = (
    "# Written by reconciler: every service of the project by its name. Do not edit.\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
)


def render(
    project: str,
    addresses: Mapping[str, ipaddress.IPv4Address],
    gateway: ipaddress.IPv4Address,
) -> str:
    lines = [HEADER, f"{gateway}\t{HOST_NAME}\n"]
    for service in sorted(addresses):
        lines.append(f"{addresses[service]}\t{service} {service}.{project}\n")
    return "".join(lines)


def resolv_conf(host_text: str) -> str | None:
    """The resolv.conf for a container of the project network, when the host's cannot be
    used as it is: a nameserver on the host's loopback (systemd-resolved, dnsmasq) is not
    reachable from another namespace, so such lines are dropped. None: use the host's."""
    kept = []
    dropped = False
    for line in host_text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver" and _loopback(fields[1]):
            dropped = True
            continue
        kept.append(line)
    return "\n".join(kept) + "\n" if dropped else None


def _loopback(text: str) -> bool:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def write_if_changed(path: Path, text: str) -> None:
    """Write `text` in place unless the file holds it already."""
    try:
        if path.read_text() == text:
            return
    except FileNotFoundError:
        pass
    write_in_place(path, text)


def write_in_place(path: Path, text: str) -> None:
    """Replace the file's content, keeping its inode (bind mounts of it stay valid)."""
    with translated(path):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, READABLE)
        try:
            # Whatever the umask: a container whose USER is not root reads it.
            os.fchmod(descriptor, READABLE)
            data = text.encode()
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, data, 0)
        finally:
            os.close(descriptor)
