"""A container's creation: its snapshot, its volumes, its network and its record.

Under a lease with an expiry, the container's snapshot is prepared on the image's top
layer, the image's USER is resolved from the snapshot's files, the runtime spec is built
and the container record created; once the record exists it is the GC root of the
snapshot and the lease can go. A crash in between leaves only what the lease's expiry
lets GC collect, and a create that fails removes its snapshot and network attachment at
once rather than leave them visible until then.

Creating what exists is idempotent: a container of ours with the same configuration
hash is adopted, one with another hash or of another project is a `Conflict`.

- network (bridge mode): the container is attached (namespace, address, port mappings)
  between its snapshot and its record, and the attachment outlives task restarts
  (`network.manager`).
- shims: every container of a project names one of the project's shim groups (a lane
  per core, at most 8) in its spec, so a few shim processes serve them all
  (`shim_groups`; docs/shims.md): most of a shim's ~2.8 MB of PSS saved per container,
  and a shim's death ends every task of its lane at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Final

from reconciler.drivers.containerd import volumes
from reconciler.drivers.containerd.client import ContainerdClient
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
from reconciler.drivers.containerd.ownership import container_if_ours, remove_snapshot_if_ours
from reconciler.drivers.containerd.rootfs import read_file
from reconciler.drivers.containerd.shim_groups import (
    ShimSharing,
    default_lanes,
    project_group,
)
from reconciler.drivers.containerd.types import Container, Mount, NewContainer
from reconciler.drivers.containerd.users import ROOT, ProcessUser, resolve_user
from reconciler.errors import AlreadyExists, Conflict, ServiceConfigError
from reconciler.model import labels
from reconciler.model.desired import DesiredService
from reconciler.model.secret import Secret

CREATE_LEASE_TTL: Final = timedelta(minutes=10)


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


@dataclass(frozen=True, kw_only=True)
class Created:
    """A container made or adopted; `rootfs` is its snapshot's mounts when this create
    made the record (no task can exist yet), None when it adopted one."""

    container: Container
    rootfs: list[Mount] | None


def project_network(
    networking: ProjectNetworking | None, service: DesiredService
) -> ProjectNetworking | None:
    """The network `service` joins: None in host mode; a `ServiceConfigError` when it
    wants the project network and there is none here."""
    if not service.on_project_network:
        return None
    if networking is None:
        raise ServiceConfigError(
            f"service '{service.name}': no project network here; use --network host"
        )
    return networking


class ContainerCreator:
    def __init__(
        self,
        client: ContainerdClient,
        *,
        networking: ProjectNetworking | None,
        shims: ShimSharing,
    ) -> None:
        self._client = client
        self._networking = networking
        self._shims = shims
        self._lanes = default_lanes()

    async def create(self, request: ContainerRequest) -> Created:
        cid = request.container_id
        existing = await container_if_ours(self._client, cid)
        if existing is not None:
            owner = existing.labels.get(labels.PROJECT)
            if owner != request.project:
                # `<project>-<service>` ids can meet: project `a` with `b-c`, `a-b` with `c`.
                raise Conflict(
                    f"container '{cid}' belongs to project '{owner}'; rename this service "
                    f"or project '{request.project}'"
                )
            if existing.labels.get(labels.CONFIG_HASH) == request.config_hash:
                return Created(container=existing, rootfs=None)
            raise Conflict(f"container '{cid}' exists with another configuration; remove it first")
        # Reject what cannot run before anything is created.
        service = request.service
        check_publish(service)
        process_args(service, request.image.config)
        networking = project_network(self._networking, service)
        if networking is not None:
            await asyncio.to_thread(networking.check, service, cid)
        lease_labels = {**labels.ours(), labels.PROJECT: request.project}
        async with self._client.lease(expires_in=CREATE_LEASE_TTL, labels=lease_labels):
            mounts = await self._fresh_snapshot(cid, request.image.chain_id)
            try:
                request = replace(request, service=volumes.prepare(service, mounts))
                if networking is None:
                    created = await self._create_record(request, mounts, None)
                else:
                    with networking.holding(cid):
                        await networking.attach(cid, service)
                        join = networking.join(cid, service)
                        created = await self._create_record(request, mounts, join)
            except BaseException:
                # The lease's expiry would let GC take the snapshot eventually; a failed
                # create should not leave it visible until then, nor its network.
                await remove_snapshot_if_ours(self._client, cid)
                if networking is not None:
                    await networking.detach(cid)
                raise
        return Created(container=created, rootfs=mounts)

    async def _create_record(
        self, request: ContainerRequest, mounts: list[Mount], network: NetworkJoin | None
    ) -> Container:
        cid = request.container_id
        spec = build_spec(
            ContainerInputs(
                container_id=cid,
                namespace=self._client.namespace,
                service=request.service,
                image=request.image.config,
                user=_user(request.image, mounts),
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
            adopted = await container_if_ours(self._client, cid)
            if adopted is None or adopted.labels.get(labels.CONFIG_HASH) != request.config_hash:
                raise
            return adopted

    async def _fresh_snapshot(self, container_id: str, parent: str) -> list[Mount]:
        try:
            return await self._client.snapshots.prepare(
                container_id, parent=parent, labels=labels.ours()
            )
        except AlreadyExists:
            # Left by an interrupted create: no container owns it (we checked), so its
            # contents are stale. Replace it, but only if it is ours.
            await remove_snapshot_if_ours(self._client, container_id, required=True)
            return await self._client.snapshots.prepare(
                container_id, parent=parent, labels=labels.ours()
            )


def _user(image: ContainerImage, mounts: Sequence[Mount]) -> ProcessUser:
    spec = image.config.user
    if not spec:
        return ROOT
    user_part, _, group_part = spec.partition(":")
    if user_part.isdigit() and group_part.isdigit():
        return ProcessUser(uid=int(user_part), gid=int(group_part))
    passwd = read_file(mounts, "/etc/passwd")
    return resolve_user(spec, passwd, read_file(mounts, "/etc/group"), image.name)
