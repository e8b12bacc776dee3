"""A private containerd daemon for tests and development, and a ``ctr`` helper.

The daemon gets its own root, state, socket, config and log under one directory, so it
never touches the host's containerd and several can run side by side. Its pid is written
to ``DIR/containerd.pid`` so ``hack/containerd-dev stop DIR`` (another process) can stop
it. Everything is checked through containerd's own ``ctr`` CLI, never through the
reconciler, so the tests cannot share the product's bugs.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reconciler.app.embedded import DaemonLayout
from tests.support.polling import eventually
from tests.support.processes import command_line, is_running, spawn_daemon, terminate

CONTAINERD = "containerd"
CTR = "ctr"

# Alternative snapshotters only log start-up errors here; CRI would want its own state.


class CtrError(AssertionError):
    """``ctr`` exited non-zero; the message carries its command line and stderr."""


@dataclass(frozen=True, kw_only=True)
class PrivateContainerd(DaemonLayout):
    """One private daemon under ``directory`` (debug-logged); start() and stop() manage it.
    Its layout and config are the embedded daemon's (`reconciler.app.embedded`)."""

    debug_log: bool = True

    def __post_init__(self) -> None:
        if not self.directory.is_absolute():
            raise ValueError(f"the daemon directory must be absolute, not {self.directory}")
        # sockaddr_un holds 108 bytes; a longer path fails deep inside containerd.
        if len(str(self.socket)) > 100:
            raise ValueError(f"socket path too long for a unix socket: {self.socket}")

    def pid(self) -> int | None:
        """The recorded pid if that process is still our containerd, else None."""
        try:
            pid = int(self.pid_path.read_text())
        except FileNotFoundError:
            return None
        # A recycled pid must never be signalled: check it still runs with our config.
        if is_running(pid) and str(self.config_path) in command_line(pid):
            return pid
        return None

    def start(self, *, timeout: float = 30.0) -> int:
        """Start the daemon detached from the caller, wait until it answers, return its pid."""
        if self.pid() is not None:
            raise RuntimeError(f"a containerd already runs for {self.directory}")
        binary = shutil.which(CONTAINERD)
        if binary is None:
            raise FileNotFoundError(f"{CONTAINERD} is not on PATH")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config_toml())
        self.socket.unlink(missing_ok=True)
        pid = spawn_daemon(
            [binary, "--config", str(self.config_path)],
            log_path=self.log_path,
            pid_path=self.pid_path,
        )

        def answers() -> bool:
            if not is_running(pid):
                raise RuntimeError(
                    f"containerd exited during start-up; see {self.log_path}:\n{self.log_tail()}"
                )
            probe = subprocess.run(
                [CTR, "--address", str(self.socket), "version"],
                capture_output=True,
                check=False,
                timeout=timeout,
            )
            return probe.returncode == 0

        try:
            eventually(answers, timeout=timeout, what="containerd answers on its socket")
        except BaseException:
            self.stop()
            raise
        return pid

    def stop(self, *, grace: float = 10.0) -> None:
        """SIGTERM the recorded daemon (SIGKILL after ``grace``) and wait until it is gone."""
        pid = self.pid()
        if pid is not None:
            terminate(pid, grace=grace)
        self.pid_path.unlink(missing_ok=True)

    def env(self) -> dict[str, str]:
        """Variables that point ``ctr`` and the reconciler at this daemon."""
        return {
            "CONTAINERD_ADDRESS": str(self.socket),
            "CONTAINERD_SOCKET": self.address,
            "CONTAINERD_ROOT": str(self.root),
            "CONTAINERD_STATE": str(self.state),
            "CONTAINERD_LOG": str(self.log_path),
        }

    def log_tail(self, lines: int = 200) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def ctr(self, *args: str, namespace: str | None = None, timeout: float = 60.0) -> str:
        """Run containerd's own ``ctr`` against this daemon and return its stdout."""
        return run_ctr(self.socket, *args, namespace=namespace, timeout=timeout)


def run_ctr(socket: Path, *args: str, namespace: str | None = None, timeout: float = 60.0) -> str:
    """``ctr --address SOCKET [--namespace NS] ARGS...``; raises CtrError on failure."""
    argv = [CTR, "--address", str(socket)]
    if namespace is not None:
        argv += ["--namespace", namespace]
    argv += args
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout)
    if done.returncode != 0:
        raise CtrError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def containerd_available() -> bool:
    return shutil.which(CONTAINERD) is not None and shutil.which(CTR) is not None


@dataclass(frozen=True, kw_only=True)
class NamespacedContainerd:
    """One test's view of the shared daemon: its own namespace, everything else shared."""

    daemon: PrivateContainerd
    namespace: str

    @property
    def address(self) -> str:
        return self.daemon.address

    @property
    def socket(self) -> Path:
        return self.daemon.socket

    @property
    def root(self) -> Path:
        return self.daemon.root

    @property
    def state(self) -> Path:
        return self.daemon.state

    @property
    def ctr_args(self) -> list[str]:
        return [CTR, "--address", str(self.socket), "--namespace", self.namespace]

    def ctr(self, *args: str, timeout: float = 60.0) -> str:
        return run_ctr(self.socket, *args, namespace=self.namespace, timeout=timeout)
