"""Acting on host processes from the event loop: waiting for an exit without being the
parent, killing a unit's every process, and running a command in a unit's context.

Waiting uses a pidfd (Linux 5.3+), which becomes readable when the process exits, so no
polling is needed for a process we can name; identity is re-checked after opening it, so
a recycled pid is never waited on by mistake.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final

from reconciler.clock import Clock
from reconciler.drivers.host import cgroups, procfs
from reconciler.drivers.host.procfs import ProcessIdentity
from reconciler.drivers.host.record import LaunchSpec
from reconciler.model.secret import Secret
from reconciler.statedir import umask

KILL_POLL: Final = 0.02
SHELL: Final = ("/bin/sh", "-c")


async def wait_exit(process: ProcessIdentity, within: float, *, clock: Clock) -> bool:
    """True once `process` has exited (at once if it is gone), False after `within` s."""
    try:
        descriptor = os.pidfd_open(process.pid)
    except ProcessLookupError:
        return True
    try:
        if not procfs.is_alive(process):
            return True
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(descriptor, readable)
        try:
            await clock.wait_for(exited, within)
        except TimeoutError:
            return not procfs.is_alive(process)
        finally:
            loop.remove_reader(descriptor)
        return True
    finally:
        os.close(descriptor)


def signal_group(leader: ProcessIdentity, signal_number: int) -> None:
    """Signal the process group `leader` leads, while the leader is still itself."""
    if procfs.is_alive(leader):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(leader.pid, signal_number)


def leftovers(leader: ProcessIdentity | None, cgroup_paths: Sequence[Path]) -> set[int]:
    found = cgroups.members(cgroup_paths)
    if leader is not None:
        found.update(procfs.session_members(leader))
    return found


async def kill_all(
    leader: ProcessIdentity | None, cgroup_paths: Sequence[Path], *, within: float, clock: Clock
) -> set[int]:
    """SIGKILL the unit's cgroups and session until empty; what survived `within` s."""
    deadline = clock.deadline(within)
    while True:
        left = leftovers(leader, cgroup_paths)
        if not left or deadline.passed:
            return left
        cgroups.kill_pass(cgroup_paths)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await clock.sleep(KILL_POLL)


def _switch_user(launch: LaunchSpec) -> dict[str, object]:
    user = launch.user
    if user is None:
        return {}
    return {"user": user.uid, "group": user.gid, "extra_groups": list(user.groups)}


async def run_in_context(
    launch: LaunchSpec,
    command: str,
    *,
    limit: timedelta,
    clock: Clock,
    extra_env: Mapping[str, Secret] | None = None,
) -> int | None:
    """Run `/bin/sh -c command` as the service would run (env, workdir, user), output
    discarded, in its own session; the exit code, or None when `limit` passed (then it
    and everything it started in its session are killed)."""
    env = {name: value.reveal() for name, value in {**launch.env, **(extra_env or {})}.items()}
    process = await asyncio.create_subprocess_exec(
        *SHELL,
        command,
        env=env,
        cwd=launch.workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        umask=umask.for_others(),
        **_switch_user(launch),  # type: ignore[arg-type]
    )
    try:
        code = await clock.wait_for(process.wait(), limit.total_seconds())
    except TimeoutError:
        return None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.returncode is None:
            await process.wait()
    return 128 - code if code < 0 else code
