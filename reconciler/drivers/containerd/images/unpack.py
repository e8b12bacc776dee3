"""Unpacking an image's layers into committed snapshots named by their chain ids.

Why this exists: a container's rootfs is a snapshot whose parent is the image's top
layer; containerd only stores blobs, so each layer is applied by the daemon's differ onto
a prepared snapshot and committed as ``ChainID(diff_ids[0..i])`` (docs/containerd.md,
"Unpacking"). Then GC must be told what keeps the snapshots alive: the config blob gets
``containerd.io/gc.ref.snapshot.<snapshotter>`` = top chain id, and each layer blob gets
``containerd.io/uncompressed`` = its diff id.

Invariants: runs inside the caller's lease (existing chain snapshots are pinned to it,
new ones belong to it); a chain id that exists is never prepared again; an extraction
snapshot that fails is removed; a differ result whose digest is not the diff id is
``ImageDigestMismatch``; a race with another unpacker (ALREADY_EXISTS) adopts the winner.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Sequence

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.types import Descriptor, Digest, LeaseId, LeaseResource
from reconciler.errors import AlreadyExists, ImageDigestMismatch, ImageError, NotFound

from . import oci

UNCOMPRESSED_LABEL = "containerd.io/uncompressed"
SNAPSHOT_REF_LABEL = "containerd.io/snapshot.ref"
SNAPSHOT_GC_LABEL = "containerd.io/gc.ref.snapshot.{}"


def snapshot_gc_label(snapshotter: str) -> str:
    return SNAPSHOT_GC_LABEL.format(snapshotter)


def _extraction_key(chain_id: Digest) -> str:
    return f"extract-{time.time_ns() % 1_000_000_000}-{secrets.token_urlsafe(3)} {chain_id}"


async def _exists(client: ContainerdClient, chain_id: Digest) -> bool:
    try:
        await client.snapshots.stat(chain_id)
    except NotFound:
        return False
    return True


async def _remove_quietly(client: ContainerdClient, key: str) -> None:
    with contextlib.suppress(NotFound):
        await asyncio.shield(client.snapshots.remove(key))


async def _apply_layer(
    client: ContainerdClient,
    layer: Descriptor,
    diff_id: Digest,
    *,
    chain_id: Digest,
    parent: str,
    what: str,
) -> None:
    """Prepare, apply and commit one layer as ``chain_id`` on top of ``parent``."""
    key = _extraction_key(chain_id)
    labels = {SNAPSHOT_REF_LABEL: chain_id}
    try:
        mounts = await client.snapshots.prepare(key, parent=parent, labels=labels)
    except AlreadyExists:
        if await _exists(client, chain_id):
            return
        raise
    try:
        applied = await client.diff.apply(layer, mounts=mounts)
        if applied.digest != diff_id:
            raise ImageDigestMismatch(
                f"{what}: layer {layer.digest} unpacked to {applied.digest}, "
                f"its config says {diff_id}"
            )
        try:
            await client.snapshots.commit(chain_id, key=key, labels=labels)
        except AlreadyExists:
            if not await _exists(client, chain_id):
                raise
            await _remove_quietly(client, key)
    except BaseException:
        await _remove_quietly(client, key)
        raise


async def unpack(
    client: ContainerdClient,
    *,
    layers: Sequence[Descriptor],
    diff_ids: Sequence[Digest],
    config: Descriptor,
    lease: LeaseId,
    what: str,
) -> Digest:
    """Unpack ``layers`` (already in the content store) and label for GC; the top chain id."""
    if not layers or len(layers) != len(diff_ids):
        raise ImageError(
            f"{what}: cannot unpack {len(layers)} layers with {len(diff_ids)} diff ids"
        )
    snapshot_type = f"snapshots/{client.snapshots.snapshotter}"
    chains = oci.chain_ids(diff_ids)
    parent = ""
    for layer, diff_id, chain_id in zip(layers, diff_ids, chains, strict=True):
        if await _exists(client, chain_id):
            await client.leases.add_resource(lease, LeaseResource(id=chain_id, type=snapshot_type))
        else:
            await _apply_layer(client, layer, diff_id, chain_id=chain_id, parent=parent, what=what)
        await client.content.update_labels(layer.digest, {UNCOMPRESSED_LABEL: diff_id})
        parent = chain_id
    top = chains[-1]
    gc_label = snapshot_gc_label(client.snapshots.snapshotter)
    await client.content.update_labels(config.digest, {gc_label: top})
    return top
