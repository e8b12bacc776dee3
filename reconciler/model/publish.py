"""Which PUBLISH lines a project can honour, by where its containers are on the network.
Pure rules, read by the preflight (every command, before the runtime) and by the driver.

- On the project network a port is mapped from the host (portmap): any host port to any
  container port, on every address of the host or one of them. The network is IPv4, so
  an IPv6 address other than `::` (read as "every address", as in the host network) is
  refused, and so is host port 0 (a mapping needs a port).
- In the host's network the process binds its own port: a remap, or an address, cannot
  be honoured, and is an error rather than silently ignored.
- Across services: one host port can be published once per address (every address
  overlaps all others).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from reconciler.model.desired import DesiredService, DesiredStack, PublishedPort, ServiceMode

EVERY_ADDRESS = (None, "", "0.0.0.0", "::")


@dataclass(frozen=True, kw_only=True)
class PublishProblem:
    service: str
    index: int  # which PUBLISH of the service
    message: str


def written(port: PublishedPort) -> str:
    prefix = f"{port.address}:" if port.address else ""
    return f"PUBLISH {prefix}{port.host}:{port.container}"


def service_problems(service: DesiredService) -> Iterator[PublishProblem]:
    if service.mode is not ServiceMode.CONTAINER:
        return
    for index, port in enumerate(service.publish):
        message = _project_network(port) if service.on_project_network else _host_network(port)
        if message is not None:
            yield PublishProblem(service=service.name, index=index, message=message)


def stack_problems(desired: DesiredStack) -> Iterator[PublishProblem]:
    """Every service's problems, then host ports published twice (the later one)."""
    for service in desired.services:
        yield from service_problems(service)
    seen: list[tuple[str, PublishedPort]] = []
    for service in desired.services:
        if service.mode is not ServiceMode.CONTAINER or service.disabled:
            continue
        for index, port in enumerate(service.publish):
            for other, earlier in seen:
                if earlier.host == port.host and _overlap(earlier.address, port.address):
                    by = "this service" if other == service.name else f"service '{other}'"
                    yield PublishProblem(
                        service=service.name,
                        index=index,
                        message=f"{written(port)}: host port {port.host} is published by "
                        f"{by} already",
                    )
                    break
            seen.append((service.name, port))


def _project_network(port: PublishedPort) -> str | None:
    if port.host == 0:
        return f"{written(port)}: a mapping needs a host port (1 to 65535)"
    if port.address in EVERY_ADDRESS:
        return None
    try:
        address = ipaddress.ip_address(port.address or "")
    except ValueError:
        return f"{written(port)}: '{port.address}' is not an IP address"
    if address.version == 6:
        return (
            f"{written(port)}: the project network is IPv4 only; publish on 127.0.0.1 or "
            "an IPv4 address of this host"
        )
    return None


def _host_network(port: PublishedPort) -> str | None:
    if port.host != port.container:
        return (
            f"{written(port)} remaps a port, which needs the project network; with "
            f"--network host the container binds its own ports, so publish "
            f"{port.container}:{port.container}"
        )
    if port.address not in EVERY_ADDRESS:
        return (
            f"{written(port)} binds an address, which needs the project network; with "
            "--network host the process chooses its own address"
        )
    return None


def _overlap(one: str | None, other: str | None) -> bool:
    return one in EVERY_ADDRESS or other in EVERY_ADDRESS or one == other
