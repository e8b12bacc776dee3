"""A service's configuration fingerprint: its config hash and a digest per part.

Computed by `reconciler.controllers.fingerprint`; stored by drivers in labels
(`orch.config-hash`, `orch.config-parts`); compared by the planner to name what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, NewType

ConfigHash = NewType("ConfigHash", str)
PART_DIGEST_CHARS: Final = 8
MAX_PARTS_LABEL: Final = 3500


@dataclass(frozen=True, kw_only=True)
class Fingerprint:
    config_hash: ConfigHash
    parts: Mapping[str, str]

    def parts_label(self) -> str:
        """`name=digest,...` for the `orch.config-parts` label; empty when too long."""
        text = ",".join(f"{name}={digest}" for name, digest in sorted(self.parts.items()))
        return text if len(text) <= MAX_PARTS_LABEL else ""


def parse_parts_label(text: str) -> dict[str, str]:
    parts = {}
    for item in text.split(","):
        name, eq, digest = item.rpartition("=")
        if eq and name:
            parts[name] = digest
    return parts


def changed_parts(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Part names whose digest differs, was added or was removed, sorted."""
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
