"""Where things live and what they are called: flags, then environment, then defaults.

The defaults (docs/cli.md, "Environment variables"; docs/architecture.md, "Where state
lives"): namespace `orch` (`RECONCILER_NAMESPACE`), state dir
`/var/lib/reconciler` as root else `$XDG_STATE_HOME/reconciler` (`RECONCILER_STATE_DIR`),
containerd address from `--address` or `CONTAINERD_ADDRESS` (else chosen at run time),
network mode from `--network` or `RECONCILER_NETWORK` (default `bridge`: docs/networks.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.errors import UsageError
from reconciler.model.network_mode import NetworkMode

DEFAULT_NAMESPACE: Final = "orch"
ROOT_STATE_DIR: Final = Path("/var/lib/reconciler")
# containerd's namespace rule (see docs/containerd.md, "Namespaces").
_NAMESPACE: Final = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")


@dataclass(frozen=True, kw_only=True)
class Settings:
    namespace: str
    state_dir: Path
    address: str | None
    # containerd's own state dir (its `state =`), when it is known: `CONTAINERD_STATE`.
    containerd_state: Path | None = None
    # Where containers are on the network: `--network`, `RECONCILER_NETWORK`, `bridge`.
    network: NetworkMode = NetworkMode.BRIDGE


def default_state_dir(environ: Mapping[str, str], is_root: bool) -> Path:
    if is_root:
        return ROOT_STATE_DIR
    xdg = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "reconciler"


def resolve_settings(
    *,
    namespace: str | None,
    state_dir: str | None,
    address: str | None,
    environ: Mapping[str, str],
    network: str | None = None,
) -> Settings:
    chosen_namespace = namespace or environ.get("RECONCILER_NAMESPACE") or DEFAULT_NAMESPACE
    if not _NAMESPACE.fullmatch(chosen_namespace):
        raise UsageError(
            f"namespace '{chosen_namespace}' is not a valid containerd namespace "
            "(letters and digits joined by single '.', '_' or '-')"
        )
    chosen_network = network or environ.get("RECONCILER_NETWORK") or NetworkMode.BRIDGE.value
    try:
        network_mode = NetworkMode(chosen_network)
    except ValueError:
        source = "--network" if network else "RECONCILER_NETWORK"
        raise UsageError(
            f"{source} '{chosen_network}' is not a network mode (bridge or host)"
        ) from None
    chosen_state = state_dir or environ.get("RECONCILER_STATE_DIR")
    return Settings(
        namespace=chosen_namespace,
        state_dir=Path(chosen_state).absolute()
        if chosen_state
        else default_state_dir(environ, os.geteuid() == 0),
        address=address or environ.get("CONTAINERD_ADDRESS") or None,
        containerd_state=Path(environ["CONTAINERD_STATE"])
        if environ.get("CONTAINERD_STATE")
        else None,
        network=network_mode,
    )
