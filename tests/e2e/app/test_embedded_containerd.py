"""The embedded containerd for real: started detached, found again, stale files handled.

Each test owns one daemon under its own state dir and stops it by the pid it recorded.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.app.containerd_address import Source, choose_containerd
from reconciler.app.embedded import EmbeddedContainerd
from reconciler.settings import Settings
from tests.support.processes import terminate

# A first reconciler process: starts the embedded daemon, prints its pid and exits.
FIRST_CALL = """
import asyncio, sys
from pathlib import Path
from reconciler.app.embedded import EmbeddedContainerd
print(asyncio.run(EmbeddedContainerd.under(Path(sys.argv[1])).ensure_running()))
"""


@pytest.fixture
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("emb")
    yield state
    pid = EmbeddedContainerd.under(state).pid()
    if pid is not None:
        terminate(pid, grace=10)


def settings(state_dir: Path) -> Settings:
    return Settings(namespace="orch", state_dir=state_dir, address=None)


def daemons_with_config(config: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(config).encode() in argv:
            found.append(int(entry.name))
    return found


@pytest.mark.asyncio
async def test_a_started_daemon_outlives_its_starter_and_is_found_without_a_second(
    state_dir: Path,
) -> None:
    embedded = EmbeddedContainerd.under(state_dir)
    starter = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FIRST_CALL, str(state_dir), stdout=subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(starter.communicate(), timeout=60)
    assert starter.returncode == 0
    pid = int(out.decode())
    assert embedded.pid() == pid
    assert os.getsid(pid) != os.getsid(0), "the daemon must run in its own session"

    chosen = await choose_containerd(
        settings(state_dir), start_embedded=False, system_socket=state_dir / "no-system.sock"
    )
    assert chosen.source is Source.EMBEDDED
    assert chosen.address == embedded.address
    assert await embedded.ensure_running() == pid
    assert daemons_with_config(embedded.config_path) == [pid]


def plant_stale_files(embedded: EmbeddedContainerd) -> int:
    """What a daemon killed with SIGKILL leaves: its pid file and its socket file."""
    embedded.directory.mkdir()
    dead = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, check=True, text=True)
    embedded.pid_path.write_text(dead.stdout)
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(embedded.socket))
    assert embedded.socket.exists()
    return int(dead.stdout)


@pytest.mark.asyncio
async def test_a_stale_pid_file_and_socket_of_a_dead_daemon_are_replaced(state_dir: Path) -> None:
    embedded = EmbeddedContainerd.under(state_dir)
    dead_pid = plant_stale_files(embedded)

    chosen = await choose_containerd(
        settings(state_dir), start_embedded=True, system_socket=state_dir / "no-system.sock"
    )
    assert chosen.source is Source.EMBEDDED
    pid = embedded.pid()
    assert pid is not None
    assert pid != dead_pid
    assert await embedded.answers()
