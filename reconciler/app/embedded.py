"""The reconciler's own containerd, under the state dir, for hosts that have none.

Why this exists: a newcomer's machine often has the ``containerd`` and ``runc`` packages
but no running daemon (or one they must not touch). Like k3s, the tool then brings its
own: config, root, state, socket, log and pid file all live in ``<state>/containerd``,
so it never disturbs a system containerd. ``run`` and ``apply`` start it; it keeps
running after they exit, because the containers it serves do.

Invariants:
* the directory is 0700 (its socket is root's alone, as the system containerd's is),
  reached from the state dir without following a link;
* the daemon runs with umask 0o022 (`statedir.umask` says why), not the reconciler's;
* the daemon runs detached: its own session, reparented away from the reconciler,
  stdin closed, output appended to ``containerd.log``;
* a pid is trusted only while that process runs *our* config: a pid file or socket left
  by a dead daemon is stale, removed, and a fresh daemon started;
* two reconcilers starting it at once start one daemon (a start lock serialises them);
* starting waits until the daemon answers ``Version`` or exits, bounded by a timeout;
  an early exit or a timeout is an error naming the log.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.errors import MissingBinary, RuntimeError_, RuntimeUnavailable, UsageError
from reconciler.oserrors import translated
from reconciler.statedir import umask
from reconciler.statedir.tree import open_directory, open_private_file

START_TIMEOUT: Final = 30.0
PROBE_TIMEOUT: Final = 1.0
REQUIRED_BINARIES: Final = ("containerd", "runc")
# Plugins the reconciler does not use: CRI (Kubernetes) and snapshotters that only log
# start-up errors on a plain host.
DISABLED_PLUGINS: Final = (
    "io.containerd.grpc.v1.cri",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
)
# sockaddr_un holds 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH: Final = 107
# sh detaches the daemon (own session, background job) and prints its pid, so the
# reconciler never holds a child it would have to reap.
_DETACH: Final = '''log="$1"; shift; "$@" </dev/null >>"$log" 2>&1 & echo "$!"'''


async def answers(address: str, *, timeout: float = PROBE_TIMEOUT) -> bool:  # noqa: ASYNC109 - a gRPC deadline
    """True if a containerd answers ``Version`` at ``address`` within ``timeout`` seconds."""
    async with ContainerdClient(address=address, namespace="default", call_timeout=timeout) as c:
        try:
            await c.version()
        except RuntimeError_:
            return False
    return True


def check_binaries() -> dict[str, str]:
    """The paths of containerd and runc, or ``MissingBinary`` naming the packages."""
    found = {name: shutil.which(name) for name in REQUIRED_BINARIES}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise MissingBinary(
            f"{' and '.join(missing)} not found on PATH: the embedded containerd needs them "
            f"(Debian/Ubuntu: apt-get install containerd runc), or pass --address"
        )
    return {name: path for name, path in found.items() if path is not None}


@dataclass(frozen=True, kw_only=True)
class DaemonLayout:
    """Where a private containerd keeps everything: config, root, state, socket, log and
    pid file, all under one directory; and the config that says so (CRI and the
    snapshotters this host cannot use disabled). Shared by the embedded daemon and the
    test suite's private daemons."""

    directory: Path
    debug_log: bool = False

    @property
    def root(self) -> Path:
        return self.directory / "root"

    @property
    def state(self) -> Path:
        return self.directory / "state"

    @property
    def socket(self) -> Path:
        return self.directory / "containerd.sock"

    @property
    def address(self) -> str:
        """The gRPC target, ``unix:///abs/path.sock`` (the form grpcio accepts)."""
        return f"unix://{self.socket}"

    @property
    def config_path(self) -> Path:
        return self.directory / "config.toml"

    @property
    def log_path(self) -> Path:
        return self.directory / "containerd.log"

    @property
    def pid_path(self) -> Path:
        return self.directory / "containerd.pid"

    def config_toml(self) -> str:
        disabled = ", ".join(f'"{name}"' for name in DISABLED_PLUGINS)
        debug = '\n[debug]\n  level = "debug"\n' if self.debug_log else ""
        return (
            "version = 2\n"
            f'root = "{self.root}"\n'
            f'state = "{self.state}"\n'
            f"disabled_plugins = [{disabled}]\n"
            "\n[grpc]\n"
            f'  address = "{self.socket}"\n'
            f"{debug}"
            '\n[plugins."io.containerd.internal.v1.opt"]\n'
            f'  path = "{self.directory / "opt"}"\n'
        )


@dataclass(frozen=True, kw_only=True)
class EmbeddedContainerd(DaemonLayout):
    """The reconciler's own daemon under the state dir, and how to start it."""

    @classmethod
    def under(cls, state_dir: Path) -> EmbeddedContainerd:
        return cls(directory=state_dir.absolute() / "containerd")

    def pid(self) -> int | None:
        """The recorded pid while that process is our daemon; None if absent or stale."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        # A recycled pid must never be taken for ours: it must run with our config.
        return pid if str(self.config_path) in _command_line(pid) else None

    async def answers(self, *, timeout: float = PROBE_TIMEOUT) -> bool:  # noqa: ASYNC109 - a gRPC deadline
        return self.socket.exists() and await answers(self.address, timeout=timeout)

    async def ensure_running(self, *, timeout: float = START_TIMEOUT) -> int | None:  # noqa: ASYNC109 - bounds the start-up wait
        """Start the daemon unless it answers already; return its pid (None if not ours).

        Raises ``MissingBinary`` without containerd or runc, ``RuntimeUnavailable`` when
        it exits during start-up or does not answer within ``timeout`` seconds.
        """
        if len(str(self.socket)) > _MAX_SOCKET_PATH:
            raise UsageError(
                f"state dir too deep for a unix socket ({self.socket}); use a shorter --state-dir"
            )
        binaries = check_binaries()
        directory = open_directory(self.directory, below=self.directory.parent)
        try:
            lock = open_private_file(
                directory, "start.lock", self.directory / "start.lock", os.O_RDWR
            )
        finally:
            os.close(directory)
        try:
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            if await self.answers():
                return self.pid()
            pid = self.pid()
            if pid is None:
                self.pid_path.unlink(missing_ok=True)
                self.socket.unlink(missing_ok=True)
                pid = await self._spawn(binaries["containerd"])
            await self._wait_until_ready(pid, timeout)
            return pid
        finally:
            os.close(lock)

    async def _spawn(self, binary: str) -> int:
        with translated(self.config_path):
            self.config_path.write_text(self.config_toml())
            # Made here, 0600: the shell that appends to it would make it 0644.
            os.close(
                os.open(
                    self.log_path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
                )
            )
        daemon = [binary, "--config", str(self.config_path)]
        starter = await asyncio.create_subprocess_exec(
            "sh", "-c", _DETACH, "sh", str(self.log_path), *daemon,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
            umask=umask.DAEMON,
        )  # fmt: skip
        out, _ = await starter.communicate()
        pid = int(out.decode().strip())
        with translated(self.pid_path):
            self.pid_path.write_text(f"{pid}\n")
        return pid

    async def _wait_until_ready(self, pid: int, timeout: float) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            raise self._failed("exited during start-up") from None
        exited: asyncio.Future[object] = loop.create_future()

        def on_exit() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(pidfd, on_exit)
        async with ContainerdClient(address=self.address, namespace="default") as client:
            ready: asyncio.Future[object] = asyncio.ensure_future(client.wait_until_ready(timeout))
            try:
                await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                loop.remove_reader(pidfd)
                os.close(pidfd)
                exited.cancel()
                ready.cancel()
                outcome = (await asyncio.gather(ready, return_exceptions=True))[0]
        if isinstance(outcome, asyncio.CancelledError):
            raise self._failed("exited during start-up")
        if isinstance(outcome, RuntimeUnavailable):
            raise self._failed(f"did not answer within {timeout:g}s") from outcome
        if isinstance(outcome, BaseException):
            raise self._failed(f"failed to answer ({outcome})") from outcome

    def _failed(self, what: str) -> RuntimeUnavailable:
        return RuntimeUnavailable(
            f"the embedded containerd {what}: {_last_line(self.log_path)} (log: {self.log_path})"
        )


def _command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "no log"
    return lines[-1] if lines else "empty log"
