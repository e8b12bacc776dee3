"""Reading an OCI image layout: a folder, or the same as an (uncompressed) tar archive.

Why this exists: ``FROM ./path`` imports an image without a registry. An archive is never
extracted: its member headers are indexed once (``tarfile`` skips over the data) and each
blob is then read straight from its offset in the file, in chunks, off the event loop.
Missing files, archives that are not tars or end early, and blobs whose size disagrees
with their descriptor are ``ImageError``s naming the path.
"""

from __future__ import annotations

import asyncio
import os
import tarfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.drivers.containerd.services.content import ContentSource
from reconciler.drivers.containerd.types import Descriptor
from reconciler.errors import ImageDigestMismatch, ImageError, ImageNotFound

from . import oci

READ_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, kw_only=True)
class _Extent:
    """A file's bytes: ``offset`` into ``path`` and ``size``."""

    path: Path
    offset: int
    size: int


def _blob_name(digest: str) -> str:
    algorithm, _, hex_digest = digest.partition(":")
    return f"blobs/{algorithm}/{hex_digest}"


def _read_extent(extent: _Extent, offset: int, size: int) -> bytes:
    with extent.path.open("rb") as file:
        file.seek(extent.offset + offset)
        return file.read(size)


class Layout:
    """An opened layout: its ``index.json`` entries and a fetcher for its blobs."""

    def __init__(self, *, path: Path, files: Mapping[str, _Extent] | None) -> None:
        self._path = path
        self._files = files  # None: a folder, read by path; else the archive's members
        self.entries: tuple[Descriptor, ...] = ()

    @property
    def origin(self) -> str:
        kind = "layout" if self._files is None else "archive"
        return f"{kind} {self._path}"

    def _extent(self, name: str) -> _Extent | None:
        if self._files is not None:
            return self._files.get(name)
        path = self._path / name
        try:
            return _Extent(path=path, offset=0, size=path.stat().st_size)
        except FileNotFoundError:
            return None

    def _blob_extent(self, descriptor: Descriptor) -> _Extent:
        extent = self._extent(_blob_name(descriptor.digest))
        if extent is None:
            raise ImageError(f"{self.origin}: blob {descriptor.digest} is missing")
        if extent.size != descriptor.size:
            raise ImageDigestMismatch(
                f"{self.origin}: blob {descriptor.digest} has {extent.size} bytes, "
                f"its descriptor says {descriptor.size}"
            )
        return extent

    async def read(self, descriptor: Descriptor) -> bytes:
        extent = self._blob_extent(descriptor)
        data = await asyncio.to_thread(_read_extent, extent, 0, extent.size)
        oci.verify(data, descriptor, what=f"{self.origin}: blob")
        return data

    def open_blob(self, descriptor: Descriptor) -> ContentSource:
        async def from_offset(offset: int) -> AsyncIterator[bytes]:
            extent = self._blob_extent(descriptor)
            position = offset
            while position < extent.size:
                size = min(READ_CHUNK_BYTES, extent.size - position)
                chunk = await asyncio.to_thread(_read_extent, extent, position, size)
                if len(chunk) != size:
                    raise ImageError(f"{self.origin}: blob {descriptor.digest} ends early")
                position += size
                yield chunk

        return from_offset

    async def _load_index(self) -> None:
        extent = self._extent("index.json")
        if extent is None:
            raise ImageError(f"{self.origin}: no index.json (not an OCI image layout)")
        data = await asyncio.to_thread(_read_extent, extent, 0, extent.size)
        self.entries = tuple(
            entry.descriptor
            for entry in oci.parse_index(data, what=f"{self.origin}: index.json").manifests
        )
        if not self.entries:
            raise ImageError(f"{self.origin}: index.json lists no image")


def _index_archive(path: Path) -> dict[str, _Extent]:
    """Every regular member's extent, by its normalized name; nothing is extracted."""
    file_size = path.stat().st_size
    try:
        with tarfile.open(path, mode="r:") as archive:
            members = archive.getmembers()
    except (tarfile.TarError, EOFError) as error:
        raise ImageError(f"archive {path}: not a readable tar archive: {error}") from error
    files: dict[str, _Extent] = {}
    for member in members:
        if not member.isfile():
            continue
        if member.offset_data + member.size > file_size:
            raise ImageError(f"archive {path}: truncated (member {member.name} ends past the end)")
        name = os.path.normpath(member.name).lstrip("/")
        files[name] = _Extent(path=path, offset=member.offset_data, size=member.size)
    return files


async def open_layout(path: Path) -> Layout:
    """Open a layout folder or archive; raises ``ImageNotFound`` when ``path`` is missing."""
    if not await asyncio.to_thread(path.exists):
        raise ImageNotFound(f"image path {path} does not exist")
    if await asyncio.to_thread(path.is_dir):
        layout = Layout(path=path, files=None)
    else:
        files = await asyncio.to_thread(_index_archive, path)
        layout = Layout(path=path, files=files)
    await layout._load_index()
    return layout
