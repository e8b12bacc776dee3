"""Deterministic layer tarballs for the test image: busybox rootfs, extra files, padding.

The same inputs must give byte-identical tars and gzip streams (fixed mtimes and owners,
sorted entries, gzip header mtime 0), so image digests are stable across runs and tests
can hard-code nothing yet still compare digests between builds.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

BUSYBOX = Path("/bin/busybox")

# 2000-01-01T00:00:00Z: any fixed instant works; zero confuses some tar readers.
EPOCH = 946_684_800

APPLETS = (
    "[", "awk", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "dd", "df",
    "dirname", "du", "echo", "env", "expr", "false", "find", "grep", "gunzip", "gzip",
    "head", "hostname", "httpd", "id", "kill", "killall", "ln", "ls", "md5sum", "mkdir",
    "mkfifo", "mktemp", "mv", "nc", "nproc", "pidof", "printf", "ps", "pwd", "readlink",
    "realpath", "rm", "rmdir", "sed", "seq", "sh", "sha256sum", "sleep", "sort", "stat",
    "tail", "tar", "tee", "test", "timeout", "top", "touch", "tr", "true", "uname", "uniq",
    "usleep", "vi", "wc", "wget", "which", "whoami", "xargs", "yes",
)  # fmt: skip

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\napp:x:1000:\nnobody:x:65534:\n"

PAD_FILE_BYTES = 4 << 20


@dataclass(frozen=True, kw_only=True)
class FileEntry:
    """One regular file, directory or symlink of a layer (paths relative, no leading /)."""

    path: str
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    kind: bytes = tarfile.REGTYPE
    link_target: str = ""


def directory(path: str, mode: int = 0o755, *, uid: int = 0, gid: int = 0) -> FileEntry:
    return FileEntry(path=path, mode=mode, uid=uid, gid=gid, kind=tarfile.DIRTYPE)


def symlink(path: str, target: str) -> FileEntry:
    return FileEntry(path=path, mode=0o777, kind=tarfile.SYMTYPE, link_target=target)


@dataclass(frozen=True, kw_only=True)
class Layer:
    """A gzip-compressed layer blob and the digest of its uncompressed tar (the diff id)."""

    blob: bytes
    diff_id: str

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.blob).hexdigest()


def busybox_rootfs(busybox: Path = BUSYBOX) -> list[FileEntry]:
    """A minimal root: busybox with applet links, users root/app/nobody, /tmp 1777."""
    entries = [
        directory("bin"),
        directory("dev"),
        directory("etc"),
        directory("home"),
        directory("home/app", uid=1000, gid=1000),
        directory("proc"),
        directory("root", 0o700),
        directory("sys"),
        directory("tmp", 0o1777),
        directory("usr"),
        directory("usr/bin"),
        FileEntry(path="bin/busybox", data=busybox.read_bytes(), mode=0o755),
        FileEntry(path="etc/passwd", data=PASSWD.encode()),
        FileEntry(path="etc/group", data=GROUP.encode()),
        FileEntry(path="etc/hostname", data=b"busybox\n"),
        # Scripts with "#!/usr/bin/env sh" work too.
        symlink("usr/bin/env", "/bin/busybox"),
    ]
    entries += [symlink(f"bin/{applet}", "busybox") for applet in APPLETS]
    return entries


def padding(megabytes: int, seed: int = 0) -> list[FileEntry]:
    """Incompressible, reproducible filler of ``megabytes`` MiB under /pad."""
    generator = random.Random(seed)
    remaining = megabytes << 20
    entries = [directory("pad")]
    while remaining > 0:
        size = min(remaining, PAD_FILE_BYTES)
        entries.append(
            FileEntry(path=f"pad/{len(entries) - 1:04d}.bin", data=generator.randbytes(size))
        )
        remaining -= size
    return entries


def build_layer(entries: Iterable[FileEntry]) -> Layer:
    """Tar the entries (sorted by path, fixed metadata) and gzip them without a timestamp."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for entry in sorted(entries, key=lambda e: e.path):
            info = tarfile.TarInfo(entry.path)
            info.type = entry.kind
            info.mode = entry.mode
            info.uid, info.gid = entry.uid, entry.gid
            info.uname = info.gname = ""
            info.mtime = EPOCH
            info.linkname = entry.link_target
            if entry.kind == tarfile.REGTYPE:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
            else:
                tar.addfile(info)
    raw = tar_bytes.getvalue()
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0, filename="") as stream:
        stream.write(raw)
    return Layer(blob=compressed.getvalue(), diff_id="sha256:" + hashlib.sha256(raw).hexdigest())
