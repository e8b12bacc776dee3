"""Which containerd to talk to (docs/architecture.md, "Which containerd").

Why this exists: every command needs one address, chosen the same way: the ``--address``
flag or ``CONTAINERD_ADDRESS`` if given; else the system socket if a daemon answers
there; else the embedded containerd under the state dir, which the writing commands
(``run``, ``apply``) start when needed and the reading ones (``status``, ``down``,
``logs``, ``leak-check``) use only if it answers. The probe is a cheap ``Version`` call
with a short deadline, so a dead socket file costs at most that deadline.

A project of host services only does not need containerd: `answering_containerd` gives
None when none answers, instead of an error. `run` asks it too and, when its project
needs containerd and none answers, takes the embedded one as is: its supervisor starts
it, so `run` answers requests while the daemon boots.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.app.embedded import PROBE_TIMEOUT, EmbeddedContainerd, answers
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.connection import grpc_target
from reconciler.errors import RuntimeError_, RuntimeUnavailable, UsageError
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
    # The embedded daemon, when that is the one chosen (`run` supervises it).
    daemon: EmbeddedContainerd | None = None


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
    chosen = await _choose(
        settings,
        start_embedded=start_embedded,
        system_socket=system_socket,
        embedded=embedded,
        probe=probe,
        required=True,
    )
    assert chosen is not None
    return chosen


async def answering_containerd(
    settings: Settings,
    *,
    system_socket: Path = SYSTEM_SOCKET,
    embedded: EmbeddedContainerd | None = None,
    probe: Probe = answers,
) -> ChosenContainerd | None:
    """The given, system or embedded containerd that answers now (a given address is
    taken as is); None when none does. Starts nothing."""
    return await _choose(
        settings,
        start_embedded=False,
        system_socket=system_socket,
        embedded=embedded,
        probe=probe,
        required=False,
    )


async def _choose(
    settings: Settings,
    *,
    start_embedded: bool,
    system_socket: Path,
    embedded: EmbeddedContainerd | None,
    probe: Probe,
    required: bool,
) -> ChosenContainerd | None:
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
        if not required:
            return None
        raise RuntimeUnavailable(
            f"no containerd answers at {system_socket} nor at {own.socket} (the embedded one,"
            " started by `reconciler run` or `reconciler apply`); or pass --address"
        )
    return embedded_choice(own)


async def require_answer(chosen: ChosenContainerd, *, timeout: float = PROBE_TIMEOUT) -> None:  # noqa: ASYNC109 - a gRPC deadline
    """A one-line `RuntimeUnavailable` when the containerd the user named does not answer:
    a command that cannot work says so at once, naming the address."""
    async with ContainerdClient(
        address=chosen.address, namespace="default", call_timeout=timeout
    ) as client:
        try:
            await client.version()
        except RuntimeError_ as error:
            why = (
                str(error)
                if "no containerd at" in str(error)
                else (
                    f"no containerd answers at {client.socket} within {timeout:g}s "
                    "(is it containerd's socket?)"
                )
            )
            raise RuntimeUnavailable(f"{why}; from --address or CONTAINERD_ADDRESS") from error


def embedded_choice(daemon: EmbeddedContainerd) -> ChosenContainerd:
    return ChosenContainerd(
        address=daemon.address, source=Source.EMBEDDED, state=daemon.state, daemon=daemon
    )
