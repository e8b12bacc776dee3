"""A private containerd for end-to-end tests, and a unique namespace per test.

One daemon per session (root, state and sockets under a tmp dir, CRI disabled) started
with ``containerd --config``; each test gets its own namespace so tests cannot see each
other's objects, and must leave that namespace empty.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_SECONDS = 20.0
STOP_SECONDS = 20.0


def eventually(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@dataclass(frozen=True, kw_only=True)
class Daemon:
    socket: Path
    root: Path
    state: Path
    process: subprocess.Popen[bytes]


@dataclass(frozen=True, kw_only=True)
class Containerd:
    address: str
    namespace: str
    root: Path
    state: Path
    ctr_args: list[str]


def _accepts_connections(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


def _config(base: Path, sock: Path) -> str:
    return f"""version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{sock}"

[ttrpc]
  address = "{sock}.ttrpc"

[debug]
  address = "{base}/debug.sock"
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
"""


@pytest.fixture(scope="session")
def _containerd_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    if os.geteuid() != 0 or shutil.which("containerd") is None:
        pytest.skip("e2e tests need root and containerd")
    base = tmp_path_factory.mktemp("ctd")
    sock = base / "containerd.sock"
    config = base / "config.toml"
    config.write_text(_config(base, sock))
    with (base / "containerd.log").open("wb") as log:
        process = subprocess.Popen(
            ["containerd", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    daemon = Daemon(socket=sock, root=base / "root", state=base / "state", process=process)
    try:
        eventually(
            lambda: process.poll() is None and _accepts_connections(sock),
            timeout=STARTUP_SECONDS,
            what=f"containerd to listen on {sock} (log: {base / 'containerd.log'})",
        )
        yield daemon
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def containerd(_containerd_daemon: Daemon) -> Containerd:
    namespace = f"t-{uuid.uuid4().hex[:12]}"
    return Containerd(
        address=f"unix://{_containerd_daemon.socket}",
        namespace=namespace,
        root=_containerd_daemon.root,
        state=_containerd_daemon.state,
        ctr_args=["ctr", "--address", str(_containerd_daemon.socket), "--namespace", namespace],
    )
