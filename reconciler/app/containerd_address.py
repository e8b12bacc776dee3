"""Which containerd to talk to (PRODUCT.md, "Which containerd").

Why this exists: every command needs one address, chosen the same way: the ``--address``
flag or ``CONTAINERD_ADDRESS`` if given; else the system socket if a daemon answers
there; else the embedded containerd under the state dir, which the writing commands
(``run``, ``apply``) start when needed and the reading ones (``status``, ``down``,
``logs``, ``leak-check``) use only if it answers. The probe is a cheap ``Version`` call
with a short deadline, so a dead socket file costs at most that deadline.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.app.embedded import EmbeddedContainerd, answers
from reconciler.drivers.containerd.connection import grpc_target
from reconciler.errors import RuntimeUnavailable, UsageError
from reconciler.settings import Settings

SYSTEM_SOCKET: Final = Path("/run/containerd/containerd.sock")

Probe = Callable[[str], Awaitable[bool]]


SYSTEM_STATE: Final = Path("/run/containerd")


class Source(enum.Enum):
    GIVEN = "given"  # --address or CONTAINERD_ADDRESS
    SYSTEM = "system"
    EMBEDDED = "embedded"


@dataclass(frozen=True, kw_only=True)
class ChosenContainerd:
    """The gRPC target (``unix:///abs/path``) and why it was chosen."""

    address: str
    source: Source
    # The daemon's state dir where known: ours for the embedded one, the packaged default
    # for the system one, `CONTAINERD_STATE` for a given address.
    state: Path | None = None


async def choose_containerd(
    settings: Settings,
    *,
    start_embedded: bool,
    system_socket: Path = SYSTEM_SOCKET,
    embedded: EmbeddedContainerd | None = None,
    probe: Probe = answers,
) -> ChosenContainerd:
    """The containerd this command uses; starts the embedded one if ``start_embedded``.

    Raises ``UsageError`` for an unusable ``--address``, ``MissingBinary`` when the
    embedded daemon is needed but not installed, and ``RuntimeUnavailable`` when no
    daemon answers and none may be started.
    """
    if settings.address is not None:
        try:
            return ChosenContainerd(
                address=grpc_target(settings.address),
                source=Source.GIVEN,
                state=settings.containerd_state,
            )
        except ValueError as error:
            raise UsageError(f"--address: {error}") from error
    system = f"unix://{system_socket}"
    if await probe(system):
        return ChosenContainerd(address=system, source=Source.SYSTEM, state=SYSTEM_STATE)
    own = embedded or EmbeddedContainerd.under(settings.state_dir)
    if start_embedded:
        await own.ensure_running()
    elif not await probe(own.address):
        raise RuntimeUnavailable(
            f"no containerd answers at {system_socket} nor at {own.socket} (the embedded one,"
            " started by `reconciler run` or `reconciler apply`); or pass --address"
        )
    return ChosenContainerd(address=own.address, source=Source.EMBEDDED, state=own.state)
