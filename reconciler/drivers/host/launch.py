"""Launching a host unit: what its supervisor is told to start, and starting it.

The supervisor (`supervisor.py`) is a process of its own that outlives the reconciler:
it is started in a new session with the unit's lock passed down, and answers with one
JSON line on its stdout (started, or the error) before it goes on supervising. Its own
errors go to the service's stderr file, opened here without following a link.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Final

from reconciler.clock import Clock
from reconciler.drivers.host.command import command_argv
from reconciler.drivers.host.environment import build_environment, current_user, resolve_user
from reconciler.drivers.host.record import LaunchSpec, UnitFiles, UnitRecord
from reconciler.errors import RuntimeFailure, ServiceConfigError
from reconciler.logfiles import layout as logfiles
from reconciler.logfiles.policy import policy_path
from reconciler.model.desired import DesiredService
from reconciler.orchfile.envfile import read_env_files
from reconciler.statedir import umask

SUPERVISOR_MODULE: Final = "reconciler.drivers.host.supervisor"
SUPERVISOR_START_SECONDS: Final = 30.0


def launch_spec(service: DesiredService, *, state_dir: Path) -> LaunchSpec:
    """How the supervisor starts the service: its argv, environment (ENV_FILEs read
    now), user, limits, log files and the project's log policy."""
    if service.command is None:
        raise ServiceConfigError(f"service '{service.name}' has no RUN command")
    euid = os.geteuid()
    user = resolve_user(service.name, service.user, euid=euid)
    environment = build_environment(
        user or current_user(euid),
        host=os.environ,
        env_files=read_env_files(service),
        env=service.env,
    )
    return LaunchSpec(
        argv=command_argv(service.command),
        env=MappingProxyType(environment),
        workdir=service.workdir or str(state_dir),
        user=user,
        limit_nofile=service.resources.limit_nofile,
        limit_nproc=service.resources.limit_nproc,
        stdout=str(service.stdout),
        stderr=str(service.stderr),
        stop_command=service.stop_command,
        reload_command=service.reload_command,
        log_policy=str(policy_path(state_dir)),
    )


async def start_supervisor(
    record: UnitRecord, files: UnitFiles, lock: int, *, clock: Clock
) -> None:
    """Start the unit's supervisor (a process of its own, holding the unit's `lock`) and
    wait for its one-line answer: started, or why not."""
    stderr = await asyncio.to_thread(_open_append, record.launch.stderr)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            SUPERVISOR_MODULE,
            str(files.record),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            pass_fds=(lock,),
            start_new_session=True,
            umask=umask.for_others(),
        )
    finally:
        os.close(stderr)
    if process.stdout is None:
        raise RuntimeFailure("the supervisor has no pipe")  # pragma: no cover
    try:
        line = await clock.wait_for(process.stdout.readline(), SUPERVISOR_START_SECONDS)
    finally:
        await process.wait()
    try:
        answer = json.loads(line) if line else {"error": "the supervisor did not answer"}
    except json.JSONDecodeError:
        answer = {"error": "the supervisor answered nonsense"}
    if "error" in answer:
        raise RuntimeFailure(f"host unit '{record.id}': {answer['error']}")


def _open_append(path: str) -> int:
    """A service's output file, for its supervisor's own errors: 0600 in 0700 folders."""
    logfiles.make_directory(Path(path).parent)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    return os.open(path, flags, logfiles.FILE_MODE)
