"""Named network namespaces, one per container: created with `ip netns`, so they are
where every Linux tool looks for them (`ip netns list`, `ip netns exec`).

A namespace outlives its container's task (a restart keeps the address, as a pod's
sandbox does) and is deleted with the container. Its name says whose it is:
`orch-<namespace>--<container id>`. Neither a containerd namespace nor a container id can
hold two separators in a row, so the name splits back unambiguously; names stay far below
the kernel's 255 characters (both parts are at most 76).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from reconciler.errors import MissingBinary, RuntimeFailure
from reconciler.statedir import umask

NETNS_DIR: Final = Path("/run/netns")
PREFIX: Final = "orch-"
SEPARATOR: Final = "--"
CLONE_NEWNET: Final = 0x40000000


def netns_name(namespace: str, container_id: str) -> str:
    return f"{PREFIX}{namespace}{SEPARATOR}{container_id}"


def netns_path(name: str) -> Path:
    return NETNS_DIR / name


def parse_netns_name(name: str) -> tuple[str, str] | None:
    """(namespace, container id) of one of our names; None for anything else."""
    if not name.startswith(PREFIX):
        return None
    namespace, separator, container_id = name.removeprefix(PREFIX).partition(SEPARATOR)
    if not separator or not namespace or not container_id:
        return None
    return namespace, container_id


def listed(directory: Path = NETNS_DIR) -> list[str]:
    """The names of the network namespaces `ip netns` knows."""
    try:
        return sorted(entry.name for entry in directory.iterdir())
    except FileNotFoundError:
        return []


async def create(name: str) -> Path:
    """Create the namespace with its loopback up; an existing one is kept as it is."""
    path = netns_path(name)
    if not path.exists():
        code, message = await _ip("netns", "add", name)
        if code != 0 and not path.exists():
            raise RuntimeFailure(f"network namespace {name}: {message}")
    code, message = await _ip("-n", name, "link", "set", "lo", "up")
    if code != 0:
        raise RuntimeFailure(f"network namespace {name}: loopback: {message}")
    return path


async def delete(name: str) -> None:
    """Delete the namespace; one that is already gone is fine. Its veth ends go with it."""
    if not netns_path(name).exists():
        return
    code, message = await _ip("netns", "delete", name)
    if code != 0 and netns_path(name).exists():
        raise RuntimeFailure(f"network namespace {name}: {message}")


async def _ip(*args: str) -> tuple[int, str]:
    try:
        process = await asyncio.create_subprocess_exec(
            "ip",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            # It may make the host's /run/netns, which is not the reconciler's alone.
            umask=umask.for_others(),
        )
    except FileNotFoundError:
        raise MissingBinary(
            "'ip' is not installed (Debian: apt-get install iproute2), or use --network host"
        ) from None
    _, err = await process.communicate()
    text = err.decode(errors="replace").strip()
    return process.returncode or 0, text.splitlines()[-1] if text else "failed"


@contextlib.contextmanager
def entered(path: Path) -> Iterator[None]:
    """Run the block with the calling thread in the network namespace at `path`: sockets
    made inside belong to it for good (a health probe of a container's own loopback).
    Only for a worker thread: a namespace is per thread, and the thread's own is restored
    on the way out."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(libc, target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(libc, own)
    finally:
        os.close(own)


def _setns(libc: ctypes.CDLL, descriptor: int) -> None:
    if libc.setns(descriptor, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"setns: {os.strerror(code)}")
