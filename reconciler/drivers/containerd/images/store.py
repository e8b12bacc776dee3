"""The image facade: make an image present and unpacked, and say what it is.

Why this exists: the driver needs one call, ``ensure_image(source)``, that turns an
Orchfile's ``FROM`` (a registry reference, or ``./path`` to an OCI layout or archive)
into a ``ResolvedImage``: the record's name, digests, parsed config and the top chain id a
container snapshot is prepared on.

Invariants:
* An image already recorded with the same target, its config labelled with an existing
  top snapshot, is answered from the store: no lease, no write, no prepare.
* Concurrent calls for the same source share one call in flight (a converge asks for
  the image of every service at once: twenty imports of one layout would fight over the
  same content-store refs, and a plan would read the same records a hundred times). The
  shared call is cancelled only when every caller waiting for it is; nothing is cached
  once it has finished.
* Otherwise everything happens inside one lease with an expiry (labelled as ours): blobs,
  snapshots, labels, then the image record; the lease is deleted only after the record
  holds everything, and a crash or cancellation anywhere leaves only what GC collects.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.image_config import ImageConfig
from reconciler.drivers.containerd.types import (
    ContentInfo,
    Descriptor,
    Digest,
    Image,
    Lease,
    SnapshotInfo,
)
from reconciler.errors import AlreadyExists, ImageError, NotFound
from reconciler.model import labels

from . import oci
from .auth import Credentials, docker_config_path, load_docker_credentials
from .fetcher import BlobFetcher
from .ingest import FetchedImage, Ingester, ProgressCallback
from .layout import Layout, open_layout
from .platform import Platform, best_match, host_platform
from .reference import ImageReference, parse_reference
from .registry_options import RegistryOptions
from .unpack import snapshot_gc_label, unpack

if TYPE_CHECKING:
    from .registry import Registry

DEFAULT_LEASE_EXPIRY = timedelta(hours=1)
DEFAULT_CONCURRENT_DOWNLOADS = 3

T = TypeVar("T")


@dataclass(kw_only=True)
class _Shared:
    task: asyncio.Future[object]
    waiters: int = 0


@dataclass(frozen=True, kw_only=True)
class ResolvedImage:
    """An image present and unpacked in the namespace, as a container needs it."""

    name: str
    target: Descriptor
    manifest_digest: Digest
    config_digest: Digest
    config: ImageConfig
    chain_id: Digest


@dataclass(frozen=True, kw_only=True)
class ImageSettings:
    """How images are fetched: platform, registries, credentials file, limits."""

    platform: Platform = field(default_factory=host_platform)
    registry: RegistryOptions = field(default_factory=RegistryOptions)
    docker_config: Path = field(default_factory=docker_config_path)
    concurrent_downloads: int = DEFAULT_CONCURRENT_DOWNLOADS
    lease_expiry: timedelta = DEFAULT_LEASE_EXPIRY


def is_path_source(source: str) -> bool:
    """``FROM ./x``, ``../x``, ``/x``: a layout or archive on disk, not a reference."""
    return source.startswith(("./", "../", "/")) or source in (".", "..")


class ImageService:
    """Import, pull, unpack and list images in the client's namespace."""

    def __init__(
        self,
        client: ContainerdClient,
        *,
        settings: ImageSettings | None = None,
        on_progress: ProgressCallback | None = None,
        lease_labels: Mapping[str, str] | None = None,
    ) -> None:
        self._client = client
        # Beside ours: e.g. the project whose apply imports, so its `down` can release it.
        self._lease_labels = {**(lease_labels or {}), **labels.ours()}
        self._settings = settings or ImageSettings()
        self._on_progress = on_progress
        self._in_flight: dict[tuple[str, str, str | None], _Shared] = {}

    async def _once(self, key: tuple[str, str, str | None], call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, or the result of the same call already in flight for ``key``."""
        shared = self._in_flight.get(key)
        if shared is None:
            shared = _Shared(task=asyncio.ensure_future(call()))
            self._in_flight[key] = shared

            def forget(task: asyncio.Future[object], shared: _Shared = shared) -> None:
                if self._in_flight.get(key) is shared:
                    del self._in_flight[key]
                if not task.cancelled():
                    task.exception()  # retrieved: every caller may have been cancelled

            shared.task.add_done_callback(forget)
        shared.waiters += 1
        try:
            return cast(T, await asyncio.shield(shared.task))
        except asyncio.CancelledError:
            if shared.waiters == 1:
                shared.task.cancel()
            raise
        finally:
            shared.waiters -= 1

    async def ensure_image(
        self,
        source: str | Path,
        *,
        name: str | None = None,
        credentials: Credentials | None = None,
    ) -> ResolvedImage:
        """Make ``source`` present and unpacked: a path is imported, a reference pulled."""
        if credentials is None:
            return await self._once(
                ("ensure", str(source), name), lambda: self._ensure(source, name, None)
            )
        return await self._ensure(source, name, credentials)

    async def _ensure(
        self, source: str | Path, name: str | None, credentials: Credentials | None
    ) -> ResolvedImage:
        if isinstance(source, Path) or is_path_source(source):
            return await self.import_image(Path(source), name=name)
        return await self.pull(source, credentials=credentials)

    async def import_image(self, path: Path, *, name: str | None = None) -> ResolvedImage:
        """Import an OCI layout folder or archive; ``name`` overrides its annotations."""
        layout = await open_layout(path)
        image_name, target = _choose_entry(layout, name)
        present = await self._present(image_name, target)
        if present is not None:
            return present
        return await self._store(image_name, target, layout)

    async def pull(
        self, reference: str, *, credentials: Credentials | None = None
    ) -> ResolvedImage:
        """Pull ``reference`` (``name[:tag]`` or ``name@sha256:...``) for this host."""
        parsed = parse_reference(reference)
        if parsed.digest:
            try:
                record = await self._client.images.get(parsed.name)
            except NotFound:
                pass
            else:
                present = await self._present(parsed.name, record.target)
                if present is not None:
                    return present
        if credentials is None:
            credentials = await asyncio.to_thread(
                load_docker_credentials, parsed.domain, self._settings.docker_config
            )
        async with self._registry(parsed, credentials) as registry:
            target = await registry.resolve()
            present = await self._present(parsed.name, target)
            if present is not None:
                return present
            return await self._store(parsed.name, target, registry)

    async def moved(self, reference: str) -> bool:
        """Whether the registry's tag now names another image than the one recorded here
        (a tag moved since the last pull). Asks the registry, pulls nothing; a reference by
        digest cannot move. Services sharing an image share one look-up."""
        return await self._once(("moved", reference, None), lambda: self._moved(reference))

    async def _moved(self, reference: str) -> bool:
        parsed = parse_reference(reference)
        if parsed.digest or is_path_source(reference):
            return False
        try:
            record = await self._client.images.get(parsed.name)
        except NotFound:
            return False
        credentials = await asyncio.to_thread(
            load_docker_credentials, parsed.domain, self._settings.docker_config
        )
        async with self._registry(parsed, credentials) as registry:
            target = await registry.resolve()
        return bool(target.digest != record.target.digest)

    @asynccontextmanager
    async def _registry(
        self, reference: ImageReference, credentials: Credentials | None
    ) -> AsyncIterator[Registry]:
        """The registry of ``reference``, over an HTTP client of its own for the block."""
        # Imported here: only a pull or a tag check needs the HTTP client, and `plan` or
        # `status` of a stack whose images are all present never loads it.
        from .pull_client import pull_client
        from .registry import Registry

        async with pull_client(reference.api_host) as http:
            yield Registry(
                reference, http=http, credentials=credentials, options=self._settings.registry
            )

    async def find(self, source: str | Path, *, name: str | None = None) -> ResolvedImage | None:
        """What `ensure_image(source)` would return, if it would do no work; else None.
        Changes nothing: for `plan`, and to tell a missing image from a present one."""
        return await self._once(("find", str(source), name), lambda: self._find(source, name))

    async def _find(self, source: str | Path, name: str | None) -> ResolvedImage | None:
        if isinstance(source, Path) or is_path_source(source):
            layout = await open_layout(Path(source))
            image_name, target = _choose_entry(layout, name)
            return await self._present(image_name, target)
        return await self.get(source)

    async def get(self, name: str) -> ResolvedImage | None:
        """The image recorded under ``name`` if it is complete and unpacked, else None."""
        try:
            record = await self._client.images.get(parse_reference(name).name)
        except NotFound:
            return None
        return await self._present(record.name, record.target)

    async def remove(self, name: str, *, sync: bool = True) -> None:
        """Delete the record; with ``sync`` GC frees its blobs and snapshots before return."""
        await self._client.images.delete(parse_reference(name).name, sync=sync)

    async def list_images(self) -> list[Image]:
        return await self._client.images.list()

    async def list_content(self) -> list[ContentInfo]:
        return await self._client.content.list()

    async def list_snapshots(self) -> list[SnapshotInfo]:
        return await self._client.snapshots.list()

    async def list_leases(self) -> list[Lease]:
        """The leases this service creates (one per import or pull in flight)."""
        return await self._client.leases.list(labels=labels.ours())

    async def _store(self, name: str, target: Descriptor, fetcher: BlobFetcher) -> ResolvedImage:
        what = f"image {name}"
        async with self._client.lease(
            expires_in=self._settings.lease_expiry, labels=self._lease_labels
        ) as lease:
            fetched = await Ingester(
                self._client,
                fetcher,
                what=what,
                platform=self._settings.platform,
                concurrency=self._settings.concurrent_downloads,
                retry=self._settings.registry.retry,
                on_progress=self._on_progress,
            ).fetch(target)
            chain_id = await unpack(
                self._client,
                layers=fetched.layers,
                diff_ids=fetched.config.diff_ids,
                config=fetched.config_descriptor,
                lease=lease.id,
                what=what,
            )
            await self._record(name, target)
        return _resolved(name, fetched, chain_id)

    async def _record(self, name: str, target: Descriptor) -> None:
        try:
            await self._client.images.create(name, target=target)
        except AlreadyExists:
            await self._client.images.update(name, target=target)

    async def _present(self, name: str, target: Descriptor) -> ResolvedImage | None:
        """The image if recorded as ``target`` and fully unpacked; reads only."""
        try:
            record = await self._client.images.get(name)
            if record.target.digest != target.digest:
                return None
            manifest = await self._local_manifest(record.target)
            if manifest is None:
                return None
            data = await self._client.content.read_all(manifest.digest)
            parsed = oci.parse_manifest(data, what=f"image {name}: manifest")
            info = await self._client.content.info(parsed.config.digest)
            config = oci.parse_config(
                await self._client.content.read_all(parsed.config.digest),
                what=f"image {name}: config",
            )
            chain_id = oci.chain_ids(config.diff_ids)[-1]
            if info.labels.get(snapshot_gc_label(self._client.snapshots.snapshotter)) != chain_id:
                return None
            await self._client.snapshots.stat(chain_id)
        except (NotFound, IndexError, ImageError):
            return None
        fetched = FetchedImage(
            target=record.target,
            manifest=manifest,
            config_descriptor=parsed.config,
            config=config,
            layers=parsed.layers,
        )
        return _resolved(name, fetched, chain_id)

    async def _local_manifest(self, descriptor: Descriptor) -> Descriptor | None:
        """The host's manifest under ``descriptor``, following indexes in the store."""
        while oci.kind_of(descriptor.media_type, what="stored image") is oci.Kind.INDEX:
            index = oci.parse_index(
                await self._client.content.read_all(descriptor.digest), what="stored index"
            )
            position = best_match(
                self._settings.platform, [entry.platform for entry in index.manifests]
            )
            if position is None:
                return None
            descriptor = index.manifests[position].descriptor
        return descriptor


def _resolved(name: str, fetched: FetchedImage, chain_id: Digest) -> ResolvedImage:
    return ResolvedImage(
        name=name,
        target=fetched.target,
        manifest_digest=fetched.manifest.digest,
        config_digest=fetched.config_descriptor.digest,
        config=fetched.config.config,
        chain_id=chain_id,
    )


def _entry_name(entry: Descriptor) -> str | None:
    """The full image name an index.json entry carries, normalized, if it has one."""
    full = entry.annotations.get(oci.CONTAINERD_NAME_ANNOTATION)
    if full:
        return parse_reference(full).name
    ref_name = entry.annotations.get(oci.REF_NAME_ANNOTATION, "")
    if "/" in ref_name:
        return parse_reference(ref_name).name
    return None


def _choose_entry(layout: Layout, name: str | None) -> tuple[str, Descriptor]:
    """Which image of the layout to import, and the record name it gets."""
    entries: Sequence[Descriptor] = layout.entries
    if name is not None:
        wanted = parse_reference(name)
        matching = [
            entry
            for entry in entries
            if _entry_name(entry) == wanted.name
            or entry.annotations.get(oci.REF_NAME_ANNOTATION) == wanted.tag
        ]
        if len(entries) == 1:
            return wanted.name, entries[0]
        if len(matching) == 1:
            return wanted.name, matching[0]
        raise ImageError(
            f"{layout.origin}: lists {len(entries)} images, {len(matching)} match {wanted.name}"
        )
    if len(entries) != 1:
        raise ImageError(f"{layout.origin}: lists {len(entries)} images; name the one to import")
    entry_name = _entry_name(entries[0])
    if entry_name is None:
        raise ImageError(f"{layout.origin}: index.json names no image; give a name to import it")
    return entry_name, entries[0]
