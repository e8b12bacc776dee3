"""The containerd driver: the controllers' `Driver` protocol over images, lifecycle,
observation and events. Container services only; one instance per project.

It remembers the image each service resolved to between `inputs` and `create`, so a
converge pulls at most once; everything else is asked of containerd every time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Final

from reconciler.clock import Clock
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.creation import ContainerImage, ContainerRequest
from reconciler.drivers.containerd.host_probe import shim_facts
from reconciler.drivers.containerd.images.store import ImageService, ResolvedImage
from reconciler.drivers.containerd.lifecycle import ContainerLifecycle
from reconciler.drivers.containerd.network.manager import ProjectNetworking
from reconciler.drivers.containerd.observe import observe
from reconciler.drivers.containerd.types import LeaseId
from reconciler.errors import Conflict, NotFound, ServiceConfigError
from reconciler.model import labels
from reconciler.model.desired import DesiredService, LocalImage, RegistryImage, ServiceMode
from reconciler.model.events import RuntimeEvent
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ImageMissing, ServiceInputs
from reconciler.model.observed import LeaseFact, Observation, Observed
from reconciler.orchfile.envfile import read_env_files

SHELL: Final = ("/bin/sh", "-c")


# How long an idle lane shim of a project that is down may take to exit by itself.
IDLE_SHIM_GRACE: Final = 1.0
IDLE_SHIM_POLL: Final = 0.05


class ContainerdDriver:
    def __init__(
        self,
        client: ContainerdClient,
        *,
        project: str,
        images: ImageService,
        clock: Clock,
        runtime_state: Path | None = None,
        networking: ProjectNetworking | None = None,
    ) -> None:
        """`networking` is the project's network (see `network`); without it, containers
        can only run in the host's network."""
        self._client = client
        self._project = project
        self._images = images
        self._clock = clock
        self._networking = networking
        self._lifecycle = ContainerLifecycle(
            client, runtime_state=runtime_state, clock=clock, networking=networking
        )
        self._resolved: dict[str, ResolvedImage] = {}
        # Containers this driver created: known to be ours, so bookkeeping labels are set
        # on them without first reading the record to check its labels.
        self._created: set[str] = set()

    @property
    def mode(self) -> ServiceMode:
        return ServiceMode.CONTAINER

    def unit_id(self, service: str) -> str:
        return labels.container_id(self._project, service)

    async def observe(self, project: str | None) -> Observation:
        return await observe(self._client, project=project, clock=self._clock)

    async def inputs(
        self, service: DesiredService, *, fetch: bool, look_up: bool = False
    ) -> ServiceInputs | ImageMissing:
        env_files = await asyncio.to_thread(read_env_files, service)
        source = self._source(service)
        resolved = (
            await self._images.ensure_image(source) if fetch else await self._images.find(source)
        )
        if resolved is None:
            return ImageMissing(reference=str(source))
        if look_up and isinstance(source, str) and await self._images.moved(source):
            return ImageMissing(reference=source, moved=True)
        self._resolved[service.name] = resolved
        return ServiceInputs(image_digest=resolved.manifest_digest, env_files=env_files)

    async def create(self, service: DesiredService, fingerprint: Fingerprint) -> None:
        resolved = self._resolved.get(service.name)
        if resolved is None:
            resolved = await self._images.ensure_image(self._source(service))
        env_files = await asyncio.to_thread(read_env_files, service)
        self._created.discard(self.unit_id(service.name))
        created = await self._lifecycle.create(
            ContainerRequest(
                container_id=self.unit_id(service.name),
                project=self._project,
                service=service,
                image=ContainerImage.of(resolved),
                env_files=env_files,
                config_hash=fingerprint.config_hash,
                extra_labels={
                    labels.CONFIG_PARTS: fingerprint.parts_label(),
                    labels.STOP_TIMEOUT: f"{service.timeout_stop.total_seconds():g}",
                },
            )
        )
        self._created.add(created.id)

    async def start(self, service: DesiredService) -> None:
        await self._lifecycle.start(self.unit_id(service.name), service.stdout, service)

    async def reload(self, service: DesiredService, fingerprint: Fingerprint) -> None:
        raise ServiceConfigError(f"service '{service.name}': RELOAD is for host services")

    async def stop(self, unit_id: str, *, grace: timedelta) -> None:
        await self._lifecycle.stop(unit_id, grace=grace)

    async def remove(self, unit_id: str, *, grace: timedelta) -> None:
        self._created.discard(unit_id)
        await self._lifecycle.remove(unit_id, grace=grace)

    async def check(self, unit_id: str, command: str, *, limit: timedelta) -> int | None:
        return await self._lifecycle.exec(unit_id, [*SHELL, command], limit=limit)

    async def release_project(self) -> None:
        for lease in await self._client.leases.list(labels=labels.ours()):
            if lease.labels.get(labels.PROJECT) == self._project:
                try:
                    await self._client.leases.delete(lease.id, sync=True)
                except NotFound:
                    continue
        await self._end_idle_shims()
        if self._networking is not None:
            await self._networking.release()

    async def _end_idle_shims(self) -> None:
        """A shared shim exits when containerd's `Shutdown` after a task delete finds it
        serving nothing; two of a lane's last tasks deleted at once have, rarely, left
        one running with none (once in 150 `down`s of 6 services). Once no task of the
        project is left, a lane shim of the project is given a moment to exit as it
        should, then ended: it is what `leak-check` would count."""
        tasks = await self._client.tasks.list()
        if any(task.id.startswith(f"{self._project}-") for task in tasks):
            return
        try:
            facts = await asyncio.to_thread(shim_facts, self._client.namespace, self._client.socket)
        except PermissionError:  # not root: the shims' sockets cannot be read
            return
        idle = [fact.pid for fact in facts if fact.project == self._project]
        deadline = self._clock.deadline(IDLE_SHIM_GRACE)
        while (idle := [pid for pid in idle if _alive(pid)]) and not deadline.passed:
            await self._clock.sleep(IDLE_SHIM_POLL)
        for pid in idle:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    async def tidy(self, observed: Observed) -> None:
        runtime = observed.runtime
        if runtime is not None:
            await self._release_abandoned_leases(runtime.leases)
        if self._networking is None:
            return
        live = {c.id for c in runtime.containers} if runtime else {u.id for u in observed.units}
        await self._networking.tidy(live, self._exists)

    async def _release_abandoned_leases(self, leases: Iterable[LeaseFact]) -> None:
        """The project's leases whose process is gone (a killed `apply`) or that expired:
        what they protected is either used by now or garbage."""
        now = self._clock.now()
        for lease in leases:
            if not labels.is_ours(lease.labels):
                continue
            if lease.labels.get(labels.PROJECT) != self._project:
                continue
            expiry = labels.lease_expiry(lease.labels)
            if lease.owner_gone or (expiry is not None and expiry <= now):
                with contextlib.suppress(NotFound):
                    await self._client.leases.delete(LeaseId(lease.id), sync=False)

    async def _exists(self, container_id: str) -> bool:
        try:
            await self._client.containers.get(container_id)
        except NotFound:
            return False
        return True

    def network_namespace(self, unit_id: str) -> Path | None:
        if self._networking is None:
            return None
        path = self._networking.netns_path(unit_id)
        return path if path.exists() else None

    async def annotate(self, unit_id: str, changes: Mapping[str, str | None]) -> None:
        if unit_id not in self._created:
            try:
                container = await self._client.containers.get(unit_id)
            except NotFound:
                return
            if not labels.is_ours(container.labels):
                raise Conflict(f"container '{unit_id}' is not the reconciler's; not labelled")
        try:
            await self._client.containers.update_labels(unit_id, changes)
        except NotFound:
            self._created.discard(unit_id)

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        # Imported here: the event decoders (two dozen types) are for `run` and `apply`,
        # never for `status` or `plan`.
        from reconciler.drivers.containerd.unit_events import unit_events

        async for event in unit_events(self._client, prefix=f"{self._project}-", clock=self._clock):
            yield event

    def _source(self, service: DesiredService) -> str | Path:
        match service.image:
            case LocalImage(path=path):
                return path
            case RegistryImage(reference=reference):
                return reference
            case None:
                raise ServiceConfigError(f"service '{service.name}' has no image")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
