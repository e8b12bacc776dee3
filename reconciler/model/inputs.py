"""What a driver gathers for a service's fingerprint beyond the Orchfile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.model.secret import Secret


@dataclass(frozen=True, kw_only=True)
class ImageMissing:
    """The image is not present and `fetch` was false: creating it needs a pull/import;
    or (`moved`) it is, but the registry's tag now names another image (`look_up`)."""

    reference: str
    moved: bool = False


@dataclass(frozen=True, kw_only=True)
class ServiceInputs:
    """What the fingerprint covers beyond the desired service."""

    image_digest: str | None
    env_files: Sequence[Mapping[str, Secret]]
