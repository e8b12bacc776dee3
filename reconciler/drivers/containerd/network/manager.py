"""One project's network at work: attach a container before its record is created, keep
its attachment through task restarts, detach it when the container is removed.

The order is what makes it leak-free (see `records`): the attachment record is written
first, then the namespace is created and the plugins' ADD runs; a detach runs DEL (with
what ADD was given and answered; retried, as DEL is idempotent), deletes the namespace
and only then forgets the record. A record whose container does not exist and is not
held by work in flight is what an interrupted process left: `tidy` finishes it on the
next pass.

The bridge exists while at least one container is attached: the first attach makes it
(`bridge.ensure_bridge`), the last detach deletes it. A lock orders the two, so a detach
never deletes the bridge an attach has just ensured.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ipaddress
import logging
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from reconciler.clock import Clock
from reconciler.drivers.containerd.network import bridge, hosts, netns
from reconciler.drivers.containerd.network.cni import Cni
from reconciler.drivers.containerd.network.config import (
    CONTAINER_IFNAME,
    ProjectNetwork,
    conflist,
    plugin_kinds,
    port_mappings,
)
from reconciler.drivers.containerd.network.ports import port_problems, read_mappings
from reconciler.drivers.containerd.network.records import Attachment, NetworkRecords
from reconciler.drivers.containerd.ocispec import NetworkJoin
from reconciler.errors import ReconcilerError, ServiceConfigError
from reconciler.model.desired import DesiredService

log = logging.getLogger("reconciler")

HOST_RESOLV_CONF: Final = Path("/etc/resolv.conf")
DEL_ATTEMPTS: Final = 3
DEL_RETRY_DELAY: Final = 0.5


class ProjectNetworking:
    def __init__(
        self,
        *,
        namespace: str,
        project: str,
        directory: Path,
        others: Callable[[], Iterable[NetworkRecords]],
        cni: Cni,
        clock: Clock,
    ) -> None:
        """`directory` holds this project's network files; `others` lists the records of
        the other projects (their subnets are taken)."""
        self._namespace = namespace
        self._project = project
        self.records = NetworkRecords(directory)
        self._others = others
        self._cni = cni
        self._clock = clock
        self._bridge_lock = asyncio.Lock()
        self._hosts_lock = asyncio.Lock()
        self._container_locks: dict[str, asyncio.Lock] = {}
        self._held: collections.Counter[str] = collections.Counter()
        self._fresh: set[str] = set()  # attached by this process, not started since

    @property
    def hosts_file(self) -> Path:
        return self.records.directory / "hosts"

    def netns_path(self, container_id: str) -> Path:
        return netns.netns_path(netns.netns_name(self._namespace, container_id))

    def check(self, service: DesiredService, container_id: str) -> None:
        """Refuse, before anything is made, what the attach would fail on: a plugin that
        is not installed, a host port another process or another container holds."""
        self._cni.require_plugins(plugin_kinds(publishes=bool(service.publish)))
        if not service.publish:
            return
        problems = port_problems(
            service.publish, container_id=container_id, mappings=read_mappings()
        )
        if problems:
            raise ServiceConfigError(f"service '{service.name}': PUBLISH: {'; '.join(problems)}")

    async def attach(self, container_id: str, service: DesiredService) -> Attachment:
        """Put the container on the project's network; a stale attachment of the same
        container (an interrupted create) is taken down first."""
        async with self._container(container_id):
            with self.holding(container_id):
                if (stale := self.records.attachment(container_id)) is not None:
                    await self._take_down(stale)
                return await self._bring_up(container_id, service.name, _runtime_config(service))

    async def ensure(self, container_id: str, service: DesiredService) -> Attachment:
        """Before a task starts: its namespace must be there (a reboot empties /run/netns),
        on a bridge that exists, and pass the plugins' CHECK (a veth or address removed by
        hand); one that does not is attached again. A start right after this process
        attached the container skips the CHECK."""
        async with self._container(container_id):
            record = self.records.attachment(container_id)
            fresh = container_id in self._fresh
            self._fresh.discard(container_id)
            if (
                record is not None
                and record.result is not None
                and self.netns_path(container_id).exists()
                and bridge.exists(record.bridge)
                and (fresh or await self._passes_check(record))
            ):
                return record
            with self.holding(container_id):
                if record is not None:
                    await self._take_down(record)
                return await self._bring_up(container_id, service.name, _runtime_config(service))

    async def detach(self, container_id: str) -> None:
        async with self._container(container_id):
            if (record := self.records.attachment(container_id)) is not None:
                await self._take_down(record)

    @contextlib.contextmanager
    def holding(self, container_id: str) -> Iterator[None]:
        """Mark the container's attachment as in use by work in flight (a create, from
        before its attach until its record exists): `tidy` leaves it alone."""
        self._held[container_id] += 1
        try:
            yield
        finally:
            self._held[container_id] -= 1
            if not self._held[container_id]:
                del self._held[container_id]

    async def tidy(self, live: Collection[str], exists: Callable[[str], Awaitable[bool]]) -> None:
        """Take down every attachment whose container does not exist and that no work in
        flight holds. `live` are the containers an observation saw; one it did not see is
        asked about again (`exists`) under the container's lock, as it may have been
        created since."""
        for record in self.records.attachments():
            cid = record.container_id
            if cid in live or cid in self._held:
                continue
            async with self._container(cid):
                current = self.records.attachment(cid)
                if current is None or cid in self._held or await exists(cid):
                    continue
                await self._take_down(current)

    async def release(self) -> None:
        """`down`: every attachment taken down, then the bridge and the network's files
        (the subnet record stays, so the project gets the same subnet next time)."""
        records = self.records.attachments()
        await asyncio.gather(*(self.detach(r.container_id) for r in records))
        subnet = self.records.subnet()
        if subnet is not None:
            network = self.records.network(self._namespace, self._project, subnet)
            async with self._bridge_lock:
                if not self.records.attachments():
                    await asyncio.to_thread(bridge.delete_bridge, network)
            for leftover in (network.ipam_dir, network.results_dir):
                await asyncio.to_thread(shutil.rmtree, leftover, True)
            self.hosts_file.unlink(missing_ok=True)

    def join(self, container_id: str, service: DesiredService) -> NetworkJoin:
        """What the container's spec needs of its attachment (made by `attach`)."""
        return NetworkJoin(
            netns=self.netns_path(container_id),
            hostname=service.name,
            hosts_file=self.hosts_file,
            resolv_conf=self._resolv_conf(),
        )

    def _resolv_conf(self) -> Path:
        try:
            text = HOST_RESOLV_CONF.read_text()
        except OSError:
            text = ""
        usable = hosts.resolv_conf(text)
        if usable is None:
            return HOST_RESOLV_CONF
        path = self.records.directory / "resolv.conf"
        hosts.write_if_changed(path, usable)
        return path

    def address(self, container_id: str) -> ipaddress.IPv4Address | None:
        record = self.records.attachment(container_id)
        return record.address if record is not None else None

    # -- the steps ---------------------------------------------------------------------

    async def _bring_up(
        self, container_id: str, service: str, runtime_config: dict[str, Any]
    ) -> Attachment:
        async with self._bridge_lock:
            network = await asyncio.to_thread(self._ensure_bridge)
            attachment = Attachment(
                container_id=container_id,
                service=service,
                netns=netns.netns_name(self._namespace, container_id),
                ifname=CONTAINER_IFNAME,
                conflist=conflist(network, publishes=bool(runtime_config.get("portMappings"))),
                runtime_config=runtime_config,
            )
            # Written before anything exists, under the lock: a detach that would delete
            # the bridge sees this attachment.
            self.records.save(attachment)
        try:
            path = await netns.create(attachment.netns)
            result = await self._cni.add(
                attachment.conflist,
                container_id=container_id,
                netns=path,
                ifname=attachment.ifname,
                runtime_config=attachment.runtime_config,
            )
        except BaseException:
            with contextlib.suppress(ReconcilerError):
                await asyncio.shield(self._take_down(attachment))
            raise
        attached = replace(attachment, result=result)
        self.records.save(attached)
        self._fresh.add(container_id)
        await self._write_hosts(network)
        return attached

    async def _passes_check(self, attachment: Attachment) -> bool:
        """CNI CHECK of the bridge plugin. Not portmap's: Debian's (1.1.1) looks for an
        IPv6 chain it never made for an IPv4 mapping and fails every CHECK."""
        assert attachment.result is not None
        checked = {
            **attachment.conflist,
            "plugins": [p for p in attachment.conflist["plugins"] if p["type"] == "bridge"],
        }
        try:
            await self._cni.check(
                checked,
                container_id=attachment.container_id,
                netns=netns.netns_path(attachment.netns),
                ifname=attachment.ifname,
                runtime_config={},
                result=attachment.result,
            )
        except ReconcilerError as error:
            log.warning(
                "container %s fails its network CHECK (%s); attaching it again",
                attachment.container_id,
                error,
            )
            return False
        return True

    async def _take_down(self, attachment: Attachment) -> None:
        path = netns.netns_path(attachment.netns)
        for attempt in range(1, DEL_ATTEMPTS + 1):
            try:
                await self._cni.delete(
                    attachment.conflist,
                    container_id=attachment.container_id,
                    netns=path if path.exists() else None,
                    ifname=attachment.ifname,
                    runtime_config=attachment.runtime_config,
                    result=attachment.result,
                )
                break
            except ReconcilerError:
                if attempt == DEL_ATTEMPTS:
                    raise
                await self._clock.sleep(DEL_RETRY_DELAY * attempt)
        await netns.delete(attachment.netns)
        self._fresh.discard(attachment.container_id)
        async with self._bridge_lock:
            self.records.forget(attachment.container_id)
            subnet = self.records.subnet()
            if subnet is None:
                return
            network = self.records.network(self._namespace, self._project, subnet)
            if not self.records.attachments():
                await asyncio.to_thread(bridge.delete_bridge, network)
        await self._write_hosts(network)

    def _ensure_bridge(self) -> ProjectNetwork:
        return bridge.ensure_bridge(
            self.records,
            namespace=self._namespace,
            project=self._project,
            other_records=(r for r in self._others() if r.directory != self.records.directory),
        )

    async def _write_hosts(self, network: ProjectNetwork) -> None:
        async with self._hosts_lock:
            addresses = {
                record.service: address
                for record in self.records.attachments()
                if (address := record.address) is not None
            }
            text = hosts.render(self._project, addresses, network.gateway)
            await asyncio.to_thread(hosts.write_if_changed, self.hosts_file, text)

    @contextlib.asynccontextmanager
    async def _container(self, container_id: str) -> AsyncIterator[None]:
        lock = self._container_locks.setdefault(container_id, asyncio.Lock())
        async with lock:
            yield


def _runtime_config(service: DesiredService) -> dict[str, Any]:
    """What the plugins are given besides the conflist: portmap's mappings, if any."""
    ports = port_mappings(service.publish)
    return {"portMappings": ports} if ports else {}
