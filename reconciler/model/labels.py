"""The labels the reconciler puts on containerd objects: identity and bookkeeping.

State lives in containerd (docs/architecture.md, "Where state lives"): these labels are
how a reconciler that was restarted, or a `status` in another process, knows which
objects are ours, which project and service they belong to, and what configuration they
were created from. Nothing without `orch.managed-by=reconciler` is ever modified or
deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

MANAGED_BY: Final = "orch.managed-by"
MANAGED_BY_VALUE: Final = "reconciler"
PROJECT: Final = "orch.project"
SERVICE: Final = "orch.service"
CONFIG_HASH: Final = "orch.config-hash"
CONFIG_PARTS: Final = "orch.config-parts"
IMAGE_DIGEST: Final = "orch.image-digest"
RESTART_COUNT: Final = "orch.restart-count"
LAST_EXIT_CODE: Final = "orch.last-exit-code"
COMPLETED: Final = "orch.completed"
FAILED: Final = "orch.failed"
CRASH_STREAK: Final = "orch.crash-streak"
RECENT_STARTS: Final = "orch.recent-starts"
STARTED_AT: Final = "orch.started-at"
# TIMEOUT_STOP in seconds, so an orphan (no longer in the Orchfile) gets its own grace.
STOP_TIMEOUT: Final = "orch.stop-timeout"
EXIT_SEEN: Final = "orch.exit-seen"
# `web=<its orch.started-at>,...`: the start of each REQUIRES target this unit's process
# began with; another start of one of them restarts this one (BindsTo).
BOUND_TO: Final = "orch.bound-to"
STOP_SIGNAL: Final = "io.containerd.image.config.stop-signal"
# containerd's own: when GC may collect a lease (RFC 3339).
GC_EXPIRE: Final = "containerd.io/gc.expire"
# On a lease: the process holding it, `<pid>@<start time>` (`drivers.containerd.lease_owner`).
OWNER: Final = "orch.owner"


def ours() -> dict[str, str]:
    return {MANAGED_BY: MANAGED_BY_VALUE}


def is_ours(labels: Mapping[str, str]) -> bool:
    return labels.get(MANAGED_BY) == MANAGED_BY_VALUE


def container_labels(
    *, project: str, service: str, config_hash: str, image_digest: str, stop_signal: str
) -> dict[str, str]:
    return {
        **ours(),
        PROJECT: project,
        SERVICE: service,
        CONFIG_HASH: config_hash,
        IMAGE_DIGEST: image_digest,
        STOP_SIGNAL: stop_signal,
    }


def container_id(project: str, service: str) -> str:
    return f"{project}-{service}"


def lease_expiry(lease_labels: Mapping[str, str]) -> datetime | None:
    """When a lease expires, from `containerd.io/gc.expire`; None: never (or unreadable)."""
    text = lease_labels.get(GC_EXPIRE)
    if text is None:
        return None
    try:
        expiry = datetime.fromisoformat(text)
    except ValueError:
        return None
    return expiry if expiry.tzinfo is not None else None
