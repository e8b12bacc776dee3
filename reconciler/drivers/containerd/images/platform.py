"""Which manifest of a multi-platform index this host runs, as containerd decides it.

Why this exists: an index lists one manifest per platform and we fetch and unpack only
the host's. The rules follow containerd's ``platforms.Only`` (1.6): names are normalized
(``aarch64`` → ``arm64``, ``arm64/v8`` ≡ ``arm64``, ``arm`` ≡ ``arm/v7``, ``amd64/v1`` ≡
``amd64``), and a host also accepts older variants of its family, best first: amd64 takes
386 last; arm/v7 takes v6 then v5; arm64 takes arm/v8 down to arm/v5.
"""

from __future__ import annotations

import platform as host_info
from collections.abc import Sequence
from dataclasses import dataclass

_MACHINE_TO_GOARCH = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "armv5tel": ("arm", "v5"),
    "i686": ("386", ""),
    "i386": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
}


@dataclass(frozen=True, kw_only=True)
class Platform:
    """An OCI platform; compare normalized ones (``normalized()``)."""

    os: str
    architecture: str
    variant: str = ""

    def normalized(self) -> Platform:
        architecture, variant = _normalize_arch(self.architecture, self.variant)
        return Platform(os=self.os.lower(), architecture=architecture, variant=variant)

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text


def _normalize_arch(architecture: str, variant: str) -> tuple[str, str]:
    architecture, variant = architecture.lower(), variant.lower()
    match architecture:
        case "i386":
            return "386", ""
        case "x86_64" | "x86-64" | "amd64":
            return "amd64", "" if variant == "v1" else variant
        case "aarch64" | "arm64":
            return "arm64", "" if variant in ("8", "v8") else variant
        case "armhf":
            return "arm", "v7"
        case "armel":
            return "arm", "v6"
        case "arm":
            if variant in ("", "7"):
                return "arm", "v7"
            if variant in ("5", "6", "8"):
                return "arm", f"v{variant}"
    return architecture, variant


def host_platform(machine: str | None = None) -> Platform:
    """linux plus the GOARCH (and arm variant) of this machine, normalized."""
    machine = machine or host_info.machine()
    architecture, variant = _MACHINE_TO_GOARCH.get(machine.lower(), (machine.lower(), ""))
    return Platform(os="linux", architecture=architecture, variant=variant).normalized()


def _arm_fallbacks(os: str, variant: str) -> list[Platform]:
    try:
        version = int(variant.removeprefix("v"))
    except ValueError:
        return []
    return [Platform(os=os, architecture="arm", variant=f"v{v}") for v in range(version - 1, 4, -1)]


def acceptable(wanted: Platform) -> tuple[Platform, ...]:
    """The normalized platforms ``wanted`` runs, most preferred first."""
    wanted = wanted.normalized()
    vector = [wanted]
    match wanted.architecture:
        case "amd64":
            vector.append(Platform(os=wanted.os, architecture="386"))
        case "arm":
            vector += _arm_fallbacks(wanted.os, wanted.variant)
        case "arm64":
            arm = Platform(os=wanted.os, architecture="arm", variant=wanted.variant or "v8")
            vector += [arm, *_arm_fallbacks(wanted.os, arm.variant)]
    return tuple(vector)


def best_match(wanted: Platform, candidates: Sequence[Platform | None]) -> int | None:
    """The position of the candidate ``wanted`` prefers (first of equals), or None.

    A candidate without a platform never matches: an index entry must say what it runs.
    """
    order = acceptable(wanted)
    best: tuple[int, int] | None = None
    for position, candidate in enumerate(candidates):
        if candidate is None:
            continue
        normalized = candidate.normalized()
        if normalized in order:
            rank = order.index(normalized)
            if best is None or rank < best[0]:
                best = (rank, position)
    return None if best is None else best[1]
