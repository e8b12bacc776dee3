"""Where `run` serves its metrics: `--metrics-address` (or `RECONCILER_METRICS_ADDRESS`),
read in one place so both spellings are refused with the same words.

A port alone (`9100` or `:9100`) binds loopback: metrics tell what runs on this host,
so they reach further only when someone writes another address. Any address is allowed
(a Prometheus on another machine needs one), and the README says what that exposes.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

from reconciler.errors import UsageError

LOOPBACK: Final = "127.0.0.1"
_HOST: Final = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
_FORMS: Final = "expected HOST:PORT, [IPv6]:PORT or PORT"


@dataclass(frozen=True, kw_only=True)
class ListenAddress:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self}/metrics"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_listen_address(text: str, *, source: str) -> ListenAddress:
    """`HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT`; `UsageError` naming `source` (the
    flag or the variable it came from) otherwise."""

    def refuse(problem: str) -> UsageError:
        return UsageError(f"{source} '{text}': {problem}")

    given = text.strip()
    if "://" in given:
        raise refuse(f"{_FORMS}, without a scheme")
    if given.startswith("["):
        host, bracket, port = given[1:].partition("]:")
        if not bracket:
            raise refuse(_FORMS)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise refuse(f"'{host}' is not an IPv6 address") from None
    elif ":" in given:
        host, _, port = given.rpartition(":")
        if ":" in host:
            raise refuse(f"write an IPv6 address in brackets: [{host}]:{port}")
    else:
        host, port = "", given
    host = host or LOOPBACK
    if not _HOST.fullmatch(host) and ":" not in host:
        raise refuse(f"'{host}' is not a host name or address")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise refuse(f"the port must be a number from 0 to 65535 ({_FORMS})")
    return ListenAddress(host=host, port=int(port))
