"""systemd's notification protocol (sd_notify(3)), in the few lines it takes.

A service started with `NOTIFY_SOCKET` set sends `NAME=value` lines, one datagram per
message, to that unix socket: a path, or an abstract name written with a leading `@`.
`WATCHDOG_USEC` is the interval within which systemd wants `WATCHDOG=1`, meant for us
only when `WATCHDOG_PID` is unset or our pid. Nothing here raises: a notification that
cannot be sent must never stop `run` from reconciling (systemd notices what matters,
a missing READY or ping, on its own).

Why no library: the protocol is a datagram of text, and the libraries add a dependency
(or a C extension) for it.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta

log = logging.getLogger("reconciler")

VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


@dataclass(frozen=True, kw_only=True)
class Supervision:
    """What systemd told this process through its environment."""

    socket: str | None = None  # None: not started by systemd, or not Type=notify
    watchdog: timedelta | None = None  # the most systemd waits between two pings


def take_supervision(environ: MutableMapping[str, str], *, pid: int) -> Supervision:
    """Read what systemd told us, and remove it from `environ` (as sd_notify's
    `unset_environment` does): what `run` starts, the embedded containerd first (it
    speaks the protocol too), must not notify systemd in our name."""
    told = {name: environ.pop(name, "") for name in VARIABLES}
    return Supervision(
        socket=told["NOTIFY_SOCKET"] or None,
        watchdog=watchdog_of(told["WATCHDOG_USEC"], told["WATCHDOG_PID"], pid=pid),
    )


def watchdog_of(usec: str, watchdog_pid: str, *, pid: int) -> timedelta | None:
    """The watchdog interval systemd set for `pid`: None when none is set, when it is
    another process's, or when the values do not parse."""
    if watchdog_pid and watchdog_pid != str(pid):
        return None
    if not usec.isdigit() or int(usec) == 0:
        return None
    return timedelta(microseconds=int(usec))


def ping_interval(watchdog: timedelta) -> timedelta:
    """Ping at half the interval, as sd_watchdog_enabled(3) advises: one late ping
    (a slow moment of the loop) is not yet a missed one."""
    return watchdog / 2


def message(**fields: str) -> bytes:
    """`READY=1\\nSTATUS=...`, in the order given; a value is kept to one line."""
    return "\n".join(f"{name}={' '.join(value.split())}" for name, value in fields.items()).encode()


def socket_address(text: str) -> str | None:
    """Where to send: a path, or an abstract name (`@name` becomes `\\0name`); None for
    what this does not speak (`vsock:`, a relative path)."""
    if text.startswith("@"):
        return "\0" + text[1:]
    if text.startswith("/"):
        return text
    return None


class Notifier:
    """Sends messages to systemd's socket; each send is independent and never blocks."""

    def __init__(self, address: str) -> None:
        self._named = address
        self._address = socket_address(address)
        self._complained = False
        if self._address is None:
            log.warning("NOTIFY_SOCKET '%s' is not a unix socket; systemd is not told", address)

    def send(self, data: bytes) -> None:
        if self._address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)  # a full queue drops the message, never the loop
                sock.sendto(data, self._address)
        except OSError as error:
            if not self._complained:  # once: a socket gone stays gone
                self._complained = True
                log.warning("cannot notify systemd at %s: %s", self._named, error)
