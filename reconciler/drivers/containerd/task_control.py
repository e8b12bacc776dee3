"""A container's task: created, started, stopped, deleted, and commands run beside it.

- start: the task writes stdout and stderr straight into one host file through the shim
  (`file://`), which keeps logging while the reconciler is down (docs/containerd.md, "Tasks").
  The file is made 0600 first: the shim's `O_CREAT` would make it 0644, readable by
  every user, and keeps the mode of a file that exists. Whoever runs keeps it within its
  limits (`reconciler.logfiles`), in place, as the shim never reopens it.
- a half-created task (containerd killed during Tasks.Create, its shim alive, no
  process) is invisible to List and Get; start and stop clear it with Delete.
- stop: Wait first (an exit cannot be missed), the stop signal, up to TIMEOUT_STOP, then
  SIGKILL to every process of the container, wait for the exit, delete the task.
- delete: a shared shim may exit while it answers (`shim_groups`); a task containerd
  dropped all the same counts as deleted.

The container itself is checked to be ours by the caller (`lifecycle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal as signals
import stat
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final

from reconciler.clock import Clock
from reconciler.drivers.containerd import volumes
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.host_probe import shim_processes
from reconciler.drivers.containerd.ownership import tolerate_not_found
from reconciler.drivers.containerd.types import (
    Container,
    ExitStatus,
    Mount,
    TaskIO,
    TaskStatus,
)
from reconciler.errors import AlreadyExists, NotFound, RuntimeFailure, TaskSettling
from reconciler.logfiles import layout as logfiles
from reconciler.model import labels
from reconciler.model.desired import DesiredService
from reconciler.statedir.tree import open_private_file

TASK_BUNDLES: Final = "io.containerd.runtime.v2.task"
KILL_WAIT: Final = 30.0
EXEC_WAIT_MARGIN: Final = 5.0
# What containerd reports of a call to a shim that exited while answering it.
SHIM_CLOSED: Final = "ttrpc: closed"


def signal_number(name: str) -> int:
    """`SIGTERM`, `TERM` or `15` → 15; unknown names fall back to SIGTERM."""
    text = name.strip().upper()
    if text.isdigit():
        return int(text)
    try:
        return int(signals.Signals[text if text.startswith("SIG") else f"SIG{text}"])
    except KeyError:
        return int(signals.SIGTERM)


class TaskControl:
    def __init__(
        self, client: ContainerdClient, *, runtime_state: Path | None, clock: Clock
    ) -> None:
        """`runtime_state` is containerd's own state dir, when known: it lets a stale task
        bundle that containerd itself failed to clean be removed (`remove_stale_bundle`)."""
        self._client = client
        self._runtime_state = runtime_state
        self._clock = clock

    async def running_pid(self, container_id: str) -> int | None:
        """The pid of the container's running task; a stopped task is deleted (None)."""
        try:
            task = await self._client.tasks.get(container_id)
        except NotFound:
            task = None
        if task is not None and task.status is TaskStatus.RUNNING:
            return task.pid
        if task is not None:
            await self.delete(container_id)
        return None

    async def start(
        self,
        container_id: str,
        log_file: Path,
        *,
        rootfs: Sequence[Mount] | None,
        service: DesiredService | None,
    ) -> int:
        """Create and start the task on `rootfs` (looked up when not known, and then
        `service`'s volumes checked again), its output into `log_file`; returns its pid."""
        await asyncio.to_thread(_make_log_file, log_file)
        if rootfs is None:
            rootfs = await self._mounts_again(container_id, service)
        io = TaskIO.log_file(str(log_file))
        try:
            await self._client.tasks.create(container_id, rootfs=rootfs, io=io)
        except AlreadyExists:
            # A half-created task: containerd died during Tasks.Create after starting the
            # shim. List and Get cannot see it, Create refuses; Delete clears it.
            await self.delete(container_id)
            await self._client.tasks.create(container_id, rootfs=rootfs, io=io)
        except RuntimeFailure as error:
            if "file exists" not in str(error):
                raise
            # The task's bundle directory is left from a Tasks.Create that did not finish:
            # its daemon was killed (Delete clears the bundle), or its caller was and the
            # daemon is still finishing it (then it settles within moments: retry later).
            await self.delete(container_id)
            try:
                await self._client.tasks.create(container_id, rootfs=rootfs, io=io)
            except RuntimeFailure as again:
                if "file exists" not in str(again):
                    raise
                if not self.remove_stale_bundle(container_id):
                    raise TaskSettling(
                        f"container '{container_id}': an interrupted task creation is still "
                        "finishing; will retry"
                    ) from again
                await self._client.tasks.create(container_id, rootfs=rootfs, io=io)
        return await self._client.tasks.start(container_id)

    async def _mounts_again(self, container_id: str, service: DesiredService | None) -> list[Mount]:
        """The rootfs of a container created before, its volumes checked again: the spec
        is reused, and a link planted since it was made is refused now."""
        rootfs = await self._client.snapshots.mounts(container_id)
        if service is not None:
            volumes.prepare(service, rootfs)
        return rootfs

    def remove_stale_bundle(self, container_id: str) -> bool:
        """Remove the task bundle of our container that a killed containerd left behind
        (its `Tasks.Create` died between making the bundle and starting the shim; the
        daemon neither cleans it nor lets a new task use the id until it restarts). Only
        when containerd's state dir is known and no shim was handed the bundle: `shim
        start` writes the shim's `address` into it before starting a shim or joining the
        project's (`shim_groups`), and a shim started for the container runs in it."""
        if self._runtime_state is None:
            return False
        namespace = self._client.namespace
        bundle = self._runtime_state / TASK_BUNDLES / namespace / container_id
        shims = shim_processes(namespace, self._client.socket)
        runs_in_it = any(shim.started_for == container_id for shim in shims)
        if runs_in_it or not bundle.is_dir() or (bundle / "address").exists():
            return False
        rootfs = bundle / "rootfs"
        if rootfs.is_dir() and os.path.ismount(rootfs):
            return False
        shutil.rmtree(bundle)
        return True

    async def stop(self, container: Container, *, grace: timedelta) -> ExitStatus | None:
        """Stop the container's task (if any) with its stop signal, SIGKILL after
        `grace`, and delete it; its exit status when there was one."""
        container_id = container.id
        try:
            task = await self._client.tasks.get(container_id)
        except NotFound:
            # Get cannot see a half-created task (see `start`); its shim would outlive
            # the container unless Delete clears it.
            await self.delete(container_id)
            return None
        status: ExitStatus | None = None
        if task.status is not TaskStatus.STOPPED:
            stop_signal = signal_number(container.labels.get(labels.STOP_SIGNAL, "SIGTERM"))
            status = await self._terminate(container_id, stop_signal, grace)
        deleted = await self.delete(container_id)
        return status or deleted

    async def exec(
        self, container: Container, args: Sequence[str], *, limit: timedelta
    ) -> int | None:
        """Run `args` in the running container like its main process; the exit code, or
        None when it did not finish within `limit` (it is killed then)."""
        container_id = container.id
        process = json.loads(container.spec)["process"]
        process["args"] = list(args)
        exec_id = f"exec-{secrets.token_hex(6)}"
        await self._client.tasks.exec(
            container_id, exec_id, process_spec=json.dumps(process).encode(), io=TaskIO()
        )
        waiter = asyncio.ensure_future(self._client.tasks.wait(container_id, exec_id=exec_id))
        try:
            await self._client.tasks.start(container_id, exec_id=exec_id)
            try:
                result = await self._clock.wait_for(asyncio.shield(waiter), limit.total_seconds())
                return result.exit_status
            except TimeoutError:
                await tolerate_not_found(
                    self._client.tasks.kill(container_id, signals.SIGKILL, exec_id=exec_id)
                )
                await self._clock.wait_for(waiter, EXEC_WAIT_MARGIN)
                return None
        finally:
            waiter.cancel()
            await tolerate_not_found(self._client.tasks.delete_process(container_id, exec_id))

    async def _terminate(self, container_id: str, stop_signal: int, grace: timedelta) -> ExitStatus:
        waiter = asyncio.ensure_future(self._client.tasks.wait(container_id))
        try:
            await tolerate_not_found(self._client.tasks.kill(container_id, stop_signal))
            try:
                return await self._clock.wait_for(asyncio.shield(waiter), grace.total_seconds())
            except TimeoutError:
                await tolerate_not_found(
                    self._client.tasks.kill(container_id, signals.SIGKILL, all_processes=True)
                )
                return await self._clock.wait_for(asyncio.shield(waiter), KILL_WAIT)
        finally:
            waiter.cancel()

    async def delete(self, container_id: str) -> ExitStatus | None:
        """Delete the task; one that is gone is success."""
        try:
            return await self._client.tasks.delete(container_id)
        except NotFound:
            return None
        except RuntimeFailure as error:
            if SHIM_CLOSED not in str(error):
                raise
            # A shared shim exits once its last task is deleted, when the delete of
            # another of its tasks asks it to: between deleting this one and answering
            # for it, that can be now. containerd drops the task all the same.
            if await self._task_exists(container_id):
                raise
            return None

    async def _task_exists(self, container_id: str) -> bool:
        try:
            await self._client.tasks.get(container_id)
        except NotFound:
            return False
        return True


def _make_log_file(log_file: Path) -> None:
    """The shim appends to the log by its path, following links: so it is made here,
    0600, and a link planted for it refused (`statedir.tree.open_private_file`).
    Directories are only made where missing (0700), never changed: the project's own
    `logs/` was checked from the state dir down when the command started
    (`app.state_dir`), and a folder an Orchfile's STDOUT names (`/tmp`, a shared
    `/srv/logs`) is its owner's. A device or a pipe it names (`/dev/null`) is left as
    it is."""
    with contextlib.suppress(FileNotFoundError):
        found = os.lstat(log_file).st_mode
        if stat.S_ISCHR(found) or stat.S_ISFIFO(found):
            return
    logfiles.make_directory(log_file.parent)
    directory = os.open(log_file.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.close(open_private_file(directory, log_file.name, log_file, os.O_WRONLY | os.O_APPEND))
    finally:
        os.close(directory)
