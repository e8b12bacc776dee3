"""Fetching one image's blobs into the content store, with the labels GC follows.

Why this exists: import and pull differ only in their ``BlobFetcher``; both walk the
target (index → the host's manifest, through nested indexes), then store layers
(concurrently, bounded), config, manifest and indexes, each parent labelled with its
children (``containerd.io/gc.ref.content.{config,l.<i>,m.<i>}``, docs/containerd.md, "Content").

Invariants: runs inside the caller's lease, so every blob written or found is held by it
until an image record references it (the daemon adds an existing blob to the lease named
in the call's header); a blob already in the namespace is not rewritten, only labelled;
a failed or cancelled write aborts its ingest; a blob whose bytes do not match its digest
is ``ImageDigestMismatch`` and never committed (the daemon checks at COMMIT).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_random_exponential,
)

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.services.content import ContentSource, bytes_source
from reconciler.drivers.containerd.types import Descriptor, Digest
from reconciler.errors import (
    FailedPrecondition,
    ImageDigestMismatch,
    ImageError,
    NotFound,
    RegistryUnavailable,
    RuntimeFailure,
    RuntimeUnavailable,
)

from . import oci
from .fetcher import BlobFetcher
from .platform import Platform, acceptable, best_match
from .registry_options import RetryPolicy

CONFIG_LABEL = "containerd.io/gc.ref.content.config"
LAYER_LABEL = "containerd.io/gc.ref.content.l.{}"
MANIFEST_LABEL = "containerd.io/gc.ref.content.m.{}"
ABORT_GIVE_UP_SECONDS = 2.0


@dataclass(frozen=True, kw_only=True)
class BlobProgress:
    """Bytes of one blob in the content store so far (``done == total`` when stored)."""

    digest: Digest
    media_type: str
    done: int
    total: int


ProgressCallback = Callable[[BlobProgress], None]


@dataclass(frozen=True, kw_only=True)
class FetchedImage:
    """What was stored: the target, the host's manifest, its config and layers."""

    target: Descriptor
    manifest: Descriptor
    config_descriptor: Descriptor
    config: oci.ConfigDocument
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True, kw_only=True)
class _Blob:
    descriptor: Descriptor
    data: bytes | None  # None: streamed from the fetcher
    labels: Mapping[str, str]
    ref_kind: str


class Ingester:
    """Stores one image from ``fetcher`` under ``lease``; ``what`` names it in errors."""

    def __init__(
        self,
        client: ContainerdClient,
        fetcher: BlobFetcher,
        *,
        what: str,
        platform: Platform,
        concurrency: int,
        retry: RetryPolicy,
        on_progress: ProgressCallback | None,
    ) -> None:
        self._client = client
        self._fetcher = fetcher
        self._what = what
        self._platform = platform
        self._limit = asyncio.Semaphore(concurrency)
        self._retry = retry
        self._on_progress = on_progress

    async def fetch(self, target: Descriptor) -> FetchedImage:
        parents: list[_Blob] = []
        manifest_descriptor = await self._choose(target, parents)
        manifest_data = await self._fetcher.read(manifest_descriptor)
        manifest = oci.parse_manifest(manifest_data, what=f"{self._what}: manifest")
        config_data = await self._fetcher.read(manifest.config)
        config = oci.parse_config(config_data, what=f"{self._what}: config")
        self._check(manifest, config)
        try:
            async with asyncio.TaskGroup() as group:
                for layer in manifest.layers:
                    blob = _Blob(descriptor=layer, data=None, labels={}, ref_kind="layer")
                    group.create_task(self._store(blob))
        except ExceptionGroup as failures:
            # One layer's failure cancels the others: report that one, not the group.
            raise _first_leaf(failures) from None
        await self._store(
            _Blob(descriptor=manifest.config, data=config_data, labels={}, ref_kind="config")
        )
        labels = {CONFIG_LABEL: manifest.config.digest}
        labels |= {LAYER_LABEL.format(i): layer.digest for i, layer in enumerate(manifest.layers)}
        await self._store(
            _Blob(
                descriptor=manifest_descriptor,
                data=manifest_data,
                labels=labels,
                ref_kind="manifest",
            )
        )
        for parent in reversed(parents):
            await self._store(parent)
        return FetchedImage(
            target=target,
            manifest=manifest_descriptor,
            config_descriptor=manifest.config,
            config=config,
            layers=manifest.layers,
        )

    def _check(self, manifest: oci.Manifest, config: oci.ConfigDocument) -> None:
        if len(config.diff_ids) != len(manifest.layers):
            raise ImageError(
                f"{self._what}: config lists {len(config.diff_ids)} diff ids "
                f"for {len(manifest.layers)} layers"
            )
        runs = config.platform
        if runs.os and runs.architecture and runs.normalized() not in acceptable(self._platform):
            raise ImageError(f"{self._what}: image is for {runs}, this host runs {self._platform}")

    async def _choose(self, descriptor: Descriptor, parents: list[_Blob]) -> Descriptor:
        """The host's manifest under ``descriptor``; the indexes passed go into ``parents``."""
        if oci.kind_of(descriptor.media_type, what=self._what) is oci.Kind.MANIFEST:
            return descriptor
        data = await self._fetcher.read(descriptor)
        index = oci.parse_index(data, what=f"{self._what}: index {descriptor.digest}")
        position = best_match(self._platform, [entry.platform for entry in index.manifests])
        if position is not None:
            chosen = index.manifests[position].descriptor
        else:
            nested = [
                entry.descriptor
                for entry in index.manifests
                if entry.platform is None
                and oci.kind_of(entry.descriptor.media_type, what=self._what) is oci.Kind.INDEX
            ]
            if not nested:
                raise ImageError(f"{self._what}: no manifest for platform {self._platform}")
            chosen = nested[0]
        parents.append(
            _Blob(
                descriptor=descriptor,
                data=data,
                labels={MANIFEST_LABEL.format(0): chosen.digest},
                ref_kind="index",
            )
        )
        return await self._choose(chosen, parents)

    def _report(self, descriptor: Descriptor, done: int) -> None:
        if self._on_progress is not None:
            self._on_progress(
                BlobProgress(
                    digest=descriptor.digest,
                    media_type=descriptor.media_type,
                    done=done,
                    total=descriptor.size,
                )
            )

    def _counted(self, descriptor: Descriptor, source: ContentSource) -> ContentSource:
        async def from_offset(offset: int) -> AsyncIterator[bytes]:
            done = offset
            async for chunk in source(offset):
                done += len(chunk)
                if done > descriptor.size:
                    raise ImageDigestMismatch(
                        f"{self._what}: blob {descriptor.digest} from {self._fetcher.origin} "
                        f"is longer than its {descriptor.size} bytes"
                    )
                self._report(descriptor, done)
                yield chunk

        return from_offset

    async def _store(self, blob: _Blob) -> None:
        """Write the blob; one already in the namespace is answered ALREADY_EXISTS before
        any byte is read, joins the lease by the header and gets ``labels`` by an update."""
        async with self._limit:
            await self._write(blob)
        self._report(blob.descriptor, blob.descriptor.size)

    async def _write(self, blob: _Blob) -> None:
        descriptor = blob.descriptor
        ref = f"{blob.ref_kind}-{descriptor.digest}"
        source = (
            bytes_source(blob.data)
            if blob.data is not None
            else self._counted(descriptor, self._fetcher.open_blob(descriptor))
        )
        try:
            async for attempt in self._retry.retrying():
                with attempt:
                    await self._client.content.write(
                        ref,
                        source,
                        expected=descriptor.digest,
                        size=descriptor.size,
                        labels=blob.labels,
                    )
        except BaseException as error:
            await self._abort(ref, error)
            if isinstance(error, FailedPrecondition):
                raise ImageDigestMismatch(
                    f"{self._what}: blob {descriptor.digest} from {self._fetcher.origin} "
                    "does not match its digest or size"
                ) from error
            if isinstance(error, OSError):
                raise RegistryUnavailable(
                    f"{self._what}: blob {descriptor.digest} from {self._fetcher.origin}: {error}"
                ) from error
            raise

    async def _abort(self, ref: str, failure: BaseException) -> None:
        """Drop a partial ingest; shielded so a cancelled pull still cleans up after itself.

        The daemon may still be finishing the cancelled write ("directory not empty"), so
        this retries briefly. If it cannot, the ingest stays in the lease (GC collects it
        once the lease is gone) and ``failure`` carries a note saying so.
        """
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((RuntimeFailure, RuntimeUnavailable)),
            wait=wait_random_exponential(multiplier=0.01, max=0.2),
            stop=stop_after_delay(ABORT_GIVE_UP_SECONDS),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt, contextlib.suppress(NotFound):
                    await asyncio.shield(self._client.content.abort(ref))
        except (RuntimeFailure, RuntimeUnavailable) as error:
            failure.add_note(f"ingest {ref} left for GC (its lease is deleted): {error}")


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first_leaf(error)
        return error
    return group
