"""A container's life in containerd: create, start, exec, stop and remove, leak-free.

Every step is idempotent, so a reconciler killed between two steps can run the same
step again: creating what exists with our labels adopts it, removing what is gone is
success. Objects without our labels are never touched (a `Conflict` instead).

- create: under a lease with an expiry, prepare the container's snapshot on the image's
  top layer, resolve the image's USER from the snapshot's files, build the runtime spec
  and create the container record; once the record exists it is the GC root of the
  snapshot and the lease can go. A crash in between leaves only what the lease's expiry
  lets GC collect.
- start: the task writes stdout and stderr straight into one host file through the shim
  (`file://`), which keeps logging while the reconciler is down (docs/containerd.md, "Tasks").
  The file is made 0600 first: the shim's `O_CREAT` would make it 0644, readable by
  every user, and keeps the mode of a file that exists. Whoever runs keeps it within its
  limits (`reconciler.logfiles`), in place, as the shim never reopens it.
- a half-created task (containerd killed during Tasks.Create, its shim alive, no
  process) is invisible to List and Get; start and stop clear it with Delete.
- stop: Wait first (an exit cannot be missed), the stop signal, up to TIMEOUT_STOP, then
  SIGKILL to every process of the container, wait for the exit, delete the task.
- remove: stop, then delete the container, then remove its snapshot, then take it off
  its network, in that order; containerd itself would let a running container be
  deleted (docs/containerd.md, "Tasks").
- network (bridge mode): the container is attached (namespace, address, port mappings)
  between its snapshot and its record, and the attachment outlives task restarts; a
  create that fails takes it down again (`network.manager`).
- shims: every container of a project names one of the project's shim groups (a lane
  per core, at most 8) in its spec, so a few shim processes serve them all
  (`shim_groups`; docs/shims.md): most of a shim's ~2.8 MB of PSS saved per container,
  and a shim's death ends every task of its lane at once.
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
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Final

from reconciler.clock import Clock, SystemClock
from reconciler.drivers.containerd import volumes
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.host_probe import shim_processes
from reconciler.drivers.containerd.image_config import ImageConfig
from reconciler.drivers.containerd.images.store import ResolvedImage
from reconciler.drivers.containerd.network.manager import ProjectNetworking
from reconciler.drivers.containerd.ocispec import (
    ContainerInputs,
    NetworkJoin,
    build_spec,
    check_publish,
    process_args,
)
from reconciler.drivers.containerd.rootfs import read_file
from reconciler.drivers.containerd.shim_groups import (
    ShimSharing,
    default_lanes,
    project_group,
)
from reconciler.drivers.containerd.types import (
    Container,
    ExitStatus,
    Mount,
    NewContainer,
    TaskIO,
    TaskStatus,
)
from reconciler.drivers.containerd.users import ROOT, ProcessUser, resolve_user
from reconciler.errors import (
    AlreadyExists,
    Conflict,
    NotFound,
    RuntimeFailure,
    ServiceConfigError,
    TaskSettling,
)
from reconciler.model import labels
from reconciler.model.desired import DesiredService
from reconciler.model.secret import Secret
from reconciler.statedir.tree import open_directory, open_private_file

TASK_BUNDLES: Final = "io.containerd.runtime.v2.task"
CREATE_LEASE_TTL: Final = timedelta(minutes=10)
KILL_WAIT: Final = 30.0
EXEC_WAIT_MARGIN: Final = 5.0
# What containerd reports of a call to a shim that exited while answering it.
SHIM_CLOSED: Final = "ttrpc: closed"


@dataclass(frozen=True, kw_only=True)
class ContainerImage:
    """An image ready to run: unpacked, with the parsed config of the chosen platform."""

    name: str
    digest: str
    chain_id: str
    config: ImageConfig

    @classmethod
    def of(cls, image: ResolvedImage) -> ContainerImage:
        return cls(
            name=image.name,
            digest=image.manifest_digest,
            chain_id=image.chain_id,
            config=image.config,
        )


@dataclass(frozen=True, kw_only=True)
class ContainerRequest:
    """All a new container is made from; `config_hash` summarizes it for drift checks."""

    container_id: str
    project: str
    service: DesiredService
    image: ContainerImage
    env_files: Sequence[Mapping[str, Secret]]
    config_hash: str
    extra_labels: Mapping[str, str] = field(default_factory=dict)


def signal_number(name: str) -> int:
    """`SIGTERM`, `TERM` or `15` → 15; unknown names fall back to SIGTERM."""
    text = name.strip().upper()
    if text.isdigit():
        return int(text)
    try:
        return int(signals.Signals[text if text.startswith("SIG") else f"SIG{text}"])
    except KeyError:
        return int(signals.SIGTERM)


class ContainerLifecycle:
    def __init__(
        self,
        client: ContainerdClient,
        *,
        runtime_state: Path | None = None,
        clock: Clock | None = None,
        networking: ProjectNetworking | None = None,
        shims: ShimSharing = ShimSharing.PER_PROJECT,
    ) -> None:
        """`runtime_state` is containerd's own state dir, when known: it lets a stale task
        bundle that containerd itself failed to clean be removed (see `start`).
        `networking` attaches containers to their project's network (bridge mode).
        `shims` is which containers share a shim; it applies to containers created from
        now on (a container keeps the shim its spec chose)."""
        self._client = client
        self._runtime_state = runtime_state
        self._clock = clock or SystemClock()
        self._networking = networking
        self._shims = shims
        self._lanes = default_lanes()
        # Containers this lifecycle created and has not started yet, with their rootfs
        # mounts: their first start needs no look-up (no task can exist, the record is
        # ours, the mounts are known), three calls fewer per service on a converge.
        self._unstarted: dict[str, list[Mount]] = {}

    @property
    def namespace(self) -> str:
        return self._client.namespace

    async def create(self, request: ContainerRequest) -> Container:
        cid = request.container_id
        existing = await self._get_ours_or_none(cid)
        if existing is not None:
            owner = existing.labels.get(labels.PROJECT)
            if owner != request.project:
                # `<project>-<service>` ids can meet: project `a` with `b-c`, `a-b` with `c`.
                raise Conflict(
                    f"container '{cid}' belongs to project '{owner}'; rename this service "
                    f"or project '{request.project}'"
                )
            if existing.labels.get(labels.CONFIG_HASH) == request.config_hash:
                return existing
            raise Conflict(f"container '{cid}' exists with another configuration; remove it first")
        # Reject what cannot run before anything is created.
        service = request.service
        check_publish(service)
        process_args(service, request.image.config)
        networking = self._network_of(service)
        if networking is not None:
            await asyncio.to_thread(networking.check, service, cid)
        lease_labels = {**labels.ours(), labels.PROJECT: request.project}
        async with self._client.lease(expires_in=CREATE_LEASE_TTL, labels=lease_labels):
            mounts = await self._fresh_snapshot(cid, request.image.chain_id)
            try:
                request = replace(request, service=volumes.prepare(service, mounts))
                if networking is None:
                    return await self._create_record(request, mounts, None)
                with networking.holding(cid):
                    await networking.attach(cid, service)
                    join = networking.join(cid, service)
                    return await self._create_record(request, mounts, join)
            except BaseException:
                # The lease's expiry would let GC take the snapshot eventually; a failed
                # create should not leave it visible until then, nor its network.
                await self._remove_snapshot_if_ours(cid)
                if networking is not None:
                    await networking.detach(cid)
                raise

    def _network_of(self, service: DesiredService) -> ProjectNetworking | None:
        if not service.on_project_network:
            return None
        if self._networking is None:
            raise ServiceConfigError(
                f"service '{service.name}': no project network here; use --network host"
            )
        return self._networking

    async def _create_record(
        self, request: ContainerRequest, mounts: list[Mount], network: NetworkJoin | None
    ) -> Container:
        created = await self._create_new_record(request, mounts, network)
        self._unstarted[request.container_id] = mounts
        return created

    async def _create_new_record(
        self, request: ContainerRequest, mounts: list[Mount], network: NetworkJoin | None
    ) -> Container:
        cid = request.container_id
        spec = build_spec(
            ContainerInputs(
                container_id=cid,
                namespace=self.namespace,
                service=request.service,
                image=request.image.config,
                user=self._user(request.image, mounts),
                env_files=request.env_files,
                network=network,
                shim_group=(
                    project_group(request.project, request.service.name, lanes=self._lanes)
                    if self._shims is ShimSharing.PER_PROJECT
                    else None
                ),
            )
        )
        record = NewContainer(
            id=cid,
            spec=json.dumps(spec).encode(),
            labels={
                **request.extra_labels,
                **labels.container_labels(
                    project=request.project,
                    service=request.service.name,
                    config_hash=request.config_hash,
                    image_digest=request.image.digest,
                    stop_signal=request.image.config.stop_signal,
                ),
            },
            image=request.image.name,
            snapshotter=self._client.snapshots.snapshotter,
            snapshot_key=cid,
        )
        try:
            return await self._client.containers.create(record)
        except AlreadyExists:
            # Created by a concurrent or interrupted attempt with the same inputs.
            adopted = await self._get_ours_or_none(cid)
            if adopted is None or adopted.labels.get(labels.CONFIG_HASH) != request.config_hash:
                raise
            return adopted

    async def start(
        self, container_id: str, log_file: Path, service: DesiredService | None = None
    ) -> int:
        """Create and start the task; a running task is adopted, a stopped one replaced.
        A container on the project network (`service` says) gets its attachment checked
        first: a reboot or a hand may have removed its namespace."""
        rootfs = self._unstarted.pop(container_id, None)
        if rootfs is None:
            await self._require_ours(container_id)
            try:
                task = await self._client.tasks.get(container_id)
            except NotFound:
                task = None
            if task is not None and task.status is TaskStatus.RUNNING:
                return task.pid
            if task is not None:
                await self._delete_task(container_id)
        if service is not None and (networking := self._network_of(service)) is not None:
            await networking.ensure(container_id, service)
        await asyncio.to_thread(_make_log_file, log_file)
        if rootfs is None:
            rootfs = await self._mounts_again(container_id, service)
        io = TaskIO.log_file(str(log_file))
        try:
            await self._client.tasks.create(container_id, rootfs=rootfs, io=io)
        except AlreadyExists:
            # A half-created task: containerd died during Tasks.Create after starting the
            # shim. List and Get cannot see it, Create refuses; Delete clears it.
            await self._delete_task(container_id)
            await self._client.tasks.create(container_id, rootfs=rootfs, io=io)
        except RuntimeFailure as error:
            if "file exists" not in str(error):
                raise
            # The task's bundle directory is left from a Tasks.Create that did not finish:
            # its daemon was killed (Delete clears the bundle), or its caller was and the
            # daemon is still finishing it (then it settles within moments: retry later).
            await self._delete_task(container_id)
            try:
                await self._client.tasks.create(container_id, rootfs=rootfs, io=io)
            except RuntimeFailure as again:
                if "file exists" not in str(again):
                    raise
                if not self._remove_stale_bundle(container_id):
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

    def _remove_stale_bundle(self, container_id: str) -> bool:
        """Remove the task bundle of our container that a killed containerd left behind
        (its `Tasks.Create` died between making the bundle and starting the shim; the
        daemon neither cleans it nor lets a new task use the id until it restarts). Only
        when containerd's state dir is known and no shim was handed the bundle: `shim
        start` writes the shim's `address` into it before starting a shim or joining the
        project's (`shim_groups`), and a shim started for the container runs in it."""
        if self._runtime_state is None:
            return False
        bundle = self._runtime_state / TASK_BUNDLES / self.namespace / container_id
        shims = shim_processes(self.namespace, self._client.socket)
        runs_in_it = any(shim.started_for == container_id for shim in shims)
        if runs_in_it or not bundle.is_dir() or (bundle / "address").exists():
            return False
        rootfs = bundle / "rootfs"
        if rootfs.is_dir() and os.path.ismount(rootfs):
            return False
        shutil.rmtree(bundle)
        return True

    async def stop(self, container_id: str, *, grace: timedelta) -> ExitStatus | None:
        """Stop the task (if any) and delete it; returns its exit status when there was one."""
        container = await self._get_ours_or_none(container_id)
        if container is None:
            return None
        return await self._stop(container, grace=grace)

    async def _stop(self, container: Container, *, grace: timedelta) -> ExitStatus | None:
        container_id = container.id
        try:
            task = await self._client.tasks.get(container_id)
        except NotFound:
            # Get cannot see a half-created task (see `start`); its shim would outlive
            # the container unless Delete clears it.
            await self._delete_task(container_id)
            return None
        status: ExitStatus | None = None
        if task.status is not TaskStatus.STOPPED:
            stop_signal = signal_number(container.labels.get(labels.STOP_SIGNAL, "SIGTERM"))
            status = await self._terminate(container_id, stop_signal, grace)
        deleted = await self._delete_task(container_id)
        return status or deleted

    async def remove(self, container_id: str, *, grace: timedelta) -> None:
        """Stop, then delete the container and its snapshot; absent parts are skipped."""
        self._unstarted.pop(container_id, None)
        container = await self._get_ours_or_none(container_id)
        if container is not None:
            await self._stop(container, grace=grace)
            await _tolerate_not_found(self._client.containers.delete(container_id))
        if container is not None and container.snapshot_key == container_id:
            # The snapshot our container used is ours: made by our create, under our key.
            await _tolerate_not_found(self._client.snapshots.remove(container_id))
        else:
            await self._remove_snapshot_if_ours(container_id)
        if self._networking is not None:
            await self._networking.detach(container_id)

    async def exec(self, container_id: str, args: Sequence[str], *, limit: timedelta) -> int | None:
        """Run `args` in the running container like its main process; the exit code, or
        None when it did not finish within `limit` (it is killed then)."""
        container = await self._require_ours(container_id)
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
                await _tolerate_not_found(
                    self._client.tasks.kill(container_id, signals.SIGKILL, exec_id=exec_id)
                )
                await self._clock.wait_for(waiter, EXEC_WAIT_MARGIN)
                return None
        finally:
            waiter.cancel()
            await _tolerate_not_found(self._client.tasks.delete_process(container_id, exec_id))

    async def _terminate(self, container_id: str, stop_signal: int, grace: timedelta) -> ExitStatus:
        waiter = asyncio.ensure_future(self._client.tasks.wait(container_id))
        try:
            await _tolerate_not_found(self._client.tasks.kill(container_id, stop_signal))
            try:
                return await self._clock.wait_for(asyncio.shield(waiter), grace.total_seconds())
            except TimeoutError:
                await _tolerate_not_found(
                    self._client.tasks.kill(container_id, signals.SIGKILL, all_processes=True)
                )
                return await self._clock.wait_for(asyncio.shield(waiter), KILL_WAIT)
        finally:
            waiter.cancel()

    async def _delete_task(self, container_id: str) -> ExitStatus | None:
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

    async def _fresh_snapshot(self, container_id: str, parent: str) -> list[Mount]:
        try:
            return await self._client.snapshots.prepare(
                container_id, parent=parent, labels=labels.ours()
            )
        except AlreadyExists:
            # Left by an interrupted create: no container owns it (we checked), so its
            # contents are stale. Replace it, but only if it is ours.
            await self._remove_snapshot_if_ours(container_id, required=True)
            return await self._client.snapshots.prepare(
                container_id, parent=parent, labels=labels.ours()
            )

    async def _remove_snapshot_if_ours(self, key: str, *, required: bool = False) -> None:
        try:
            info = await self._client.snapshots.stat(key)
        except NotFound:
            return
        if not labels.is_ours(info.labels):
            if required:
                raise Conflict(f"snapshot '{key}' exists and is not the reconciler's")
            return
        await _tolerate_not_found(self._client.snapshots.remove(key))

    def _user(self, image: ContainerImage, mounts: Sequence[Mount]) -> ProcessUser:
        spec = image.config.user
        if not spec:
            return ROOT
        user_part, _, group_part = spec.partition(":")
        if user_part.isdigit() and group_part.isdigit():
            return ProcessUser(uid=int(user_part), gid=int(group_part))
        passwd = read_file(mounts, "/etc/passwd")
        return resolve_user(spec, passwd, read_file(mounts, "/etc/group"), image.name)

    async def _get_ours_or_none(self, container_id: str) -> Container | None:
        try:
            container = await self._client.containers.get(container_id)
        except NotFound:
            return None
        if not labels.is_ours(container.labels):
            raise Conflict(
                f"container '{container_id}' in namespace '{self.namespace}' exists and is "
                "not the reconciler's; it is left alone"
            )
        return container

    async def _require_ours(self, container_id: str) -> Container:
        container = await self._get_ours_or_none(container_id)
        if container is None:
            raise NotFound(f"container '{container_id}' does not exist")
        return container


def _make_log_file(log_file: Path) -> None:
    """The shim appends to the log by its path, following links: so it is made here,
    0600 in 0700 directories, and a link planted for it refused (`statedir.tree`).
    `<project dir>/logs/<service>.log`: the project's directory was made from the state
    dir down without following a link when the command started (`app.state_dir`). What
    A device or a pipe an Orchfile names (`/dev/null`) is left as it is."""
    with contextlib.suppress(FileNotFoundError):
        found = os.lstat(log_file).st_mode
        if stat.S_ISCHR(found) or stat.S_ISFIFO(found):
            return
    directory = open_directory(log_file.parent, below=log_file.parent.parent)
    try:
        os.close(open_private_file(directory, log_file.name, log_file, os.O_WRONLY | os.O_APPEND))
    finally:
        os.close(directory)


async def _tolerate_not_found(call: Awaitable[object]) -> None:
    try:
        await call
    except NotFound:
        return
