"""FROM → the image a cluster pulls.

A registry reference is kept as written: a cluster pulls it as containerd did. A local
image (an OCI layout folder or archive, `FROM ./images/web`) exists only on this host,
so it needs `--image-map LOCAL=REF` naming where the user pushed it; without one it is
an error. A mapping may also replace a registry reference, which is how a registry on
`localhost` (reachable from this host, but from a node only if the node runs one too)
is pointed elsewhere; left unmapped, such a reference is a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from reconciler.export.findings import Directive, Findings
from reconciler.export.options import ExportOptions, ImageMapping
from reconciler.model.desired import DesiredService, LocalImage, RegistryImage

_LOOPBACK_HOSTS = ("localhost", "[::1]")


def image_reference(
    service: DesiredService, options: ExportOptions, findings: Findings
) -> str | None:
    """The reference the pod names, or None (with an error found) when there is none."""
    match service.image:
        case LocalImage(path=path, written_as=written):
            mapping = _mapping(options.image_map, written, path)
            if mapping is None:
                findings.fail(
                    service.name,
                    Directive.FROM,
                    f"FROM {written} is a local image, which a cluster cannot pull; name the "
                    f"registry you pushed it to with --image-map {written}=REGISTRY/NAME:TAG",
                )
                return None
            return mapping.reference
        case RegistryImage(reference=reference):
            mapping = _mapping(options.image_map, reference, None)
            if mapping is not None:
                return mapping.reference
            if _on_loopback(reference):
                findings.warn(
                    service.name,
                    Directive.FROM,
                    f"FROM {reference} names a registry on this host, and a node resolves "
                    "that address to itself; --image-map it to a registry the cluster reaches",
                )
            return reference
        case None:
            findings.fail(service.name, Directive.FROM, "a container service needs FROM")
            return None


def unused_mappings(
    services: Iterable[DesiredService], options: ExportOptions, findings: Findings
) -> None:
    """An `--image-map` that matches no FROM is most likely a typo: say so."""
    images = [s.image for s in services if s.image is not None]
    for mapping in options.image_map:
        if not any(_matches(mapping, image) for image in images):
            findings.warn(None, None, f"--image-map {mapping.local}: no service has that FROM")


def _matches(mapping: ImageMapping, image: LocalImage | RegistryImage) -> bool:
    match image:
        case LocalImage(path=path, written_as=written):
            return mapping.matches(written, path)
        case RegistryImage(reference=reference):
            return mapping.matches(reference, None)


def _mapping(
    mappings: tuple[ImageMapping, ...], written: str, path: Path | None
) -> ImageMapping | None:
    return next((m for m in mappings if m.matches(written, path)), None)


def _on_loopback(reference: str) -> bool:
    """Whether the reference's registry (its first component, when that looks like a
    host) is this host: `localhost:5000/web:1`, `127.0.0.1:5000/web`, `[::1]:5000/web`."""
    first, slash, _ = reference.partition("/")
    if not slash or not (first == "localhost" or "." in first or ":" in first):
        return False
    host = first[: first.index("]") + 1] if first.startswith("[") else first.split(":")[0]
    return host in _LOOPBACK_HOSTS or host.startswith("127.")
