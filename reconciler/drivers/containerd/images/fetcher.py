"""Where an image's blobs come from: the seam between layouts, registries and the store.

Why this exists: importing a layout folder, an archive, or pulling from a registry differ
only in how a blob's bytes are read. The ingest code walks manifests and writes blobs
through this protocol and never knows which it has. ``open_blob`` is lazy: the content
store may already hold the blob (another namespace, a resumed ingest), and then nothing
is read at all.
"""

from __future__ import annotations

from typing import Protocol

from reconciler.drivers.containerd.services.content import ContentSource
from reconciler.drivers.containerd.types import Descriptor


class BlobFetcher(Protocol):
    @property
    def origin(self) -> str:
        """Where the blobs come from, for messages: ``archive /x.tar``, ``registry host``."""
        ...

    async def read(self, descriptor: Descriptor) -> bytes:
        """A small blob (index, manifest, config), verified against ``descriptor``."""
        ...

    def open_blob(self, descriptor: Descriptor) -> ContentSource:
        """The blob's bytes from a given offset, opened only when called."""
        ...
