"""What the reconciler writes down about a project's network, under its state dir:

    <project state>/network/network.json           the subnet chosen for the project
    <project state>/network/attachments/<id>.json  one per container attached
    <project state>/network/ipam/                  host-local's allocations
    <project state>/network/hosts                  the project's /etc/hosts

An attachment record is written *before* its namespace is created and removed only
after the plugins' DEL succeeded, so whatever an interrupted attach or detach left
behind is named by a record, and the next pass (or `down`) finishes it. The record keeps
the exact configuration ADD was given and ADD's result: DEL must see what ADD saw.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.drivers.containerd.network.config import ProjectNetwork
from reconciler.statedir.files import write_atomically


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """One container's place on its project's network."""

    container_id: str
    service: str
    netns: str  # the name under /run/netns
    ifname: str
    conflist: dict[str, Any]
    runtime_config: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None  # ADD's answer; None until ADD succeeded

    @property
    def address(self) -> ipaddress.IPv4Address | None:
        """The container's IPv4 address, from ADD's result."""
        for ip in (self.result or {}).get("ips", ()):
            interface = ipaddress.ip_interface(ip["address"])
            if isinstance(interface, ipaddress.IPv4Interface):
                return interface.ip
        return None

    @property
    def bridge(self) -> str:
        return str(self.conflist["plugins"][0]["bridge"])

    @property
    def host_interfaces(self) -> tuple[str, ...]:
        """The host-side interfaces ADD made for this container (its veth end)."""
        return tuple(
            str(interface["name"])
            for interface in (self.result or {}).get("interfaces", ())
            if "sandbox" not in interface and interface.get("name") != self.bridge
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "container_id": self.container_id,
                "service": self.service,
                "netns": self.netns,
                "ifname": self.ifname,
                "conflist": self.conflist,
                "runtime_config": self.runtime_config,
                "result": self.result,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Attachment:
        data = json.loads(text)
        return cls(
            container_id=data["container_id"],
            service=data["service"],
            netns=data["netns"],
            ifname=data["ifname"],
            conflist=data["conflist"],
            runtime_config=data.get("runtime_config") or {},
            result=data.get("result"),
        )


class NetworkRecords:
    """The files of one project's network."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def attachments_dir(self) -> Path:
        return self.directory / "attachments"

    def network(
        self, namespace: str, project: str, subnet: ipaddress.IPv4Network
    ) -> ProjectNetwork:
        return ProjectNetwork(
            namespace=namespace, project=project, subnet=subnet, state_dir=self.directory
        )

    def subnet(self) -> ipaddress.IPv4Network | None:
        try:
            data = json.loads((self.directory / "network.json").read_text())
            return ipaddress.IPv4Network(data["subnet"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None

    def save_subnet(self, subnet: ipaddress.IPv4Network) -> None:
        write_atomically(
            self.directory / "network.json", json.dumps({"subnet": str(subnet)}).encode()
        )

    def attachments(self) -> list[Attachment]:
        """Every attachment record; an unreadable one (a torn write) is skipped."""
        found = []
        try:
            paths = sorted(self.attachments_dir.glob("*.json"))
        except FileNotFoundError:
            return []
        for path in paths:
            try:
                found.append(Attachment.from_json(path.read_text()))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return found

    def attachment(self, container_id: str) -> Attachment | None:
        try:
            return Attachment.from_json(self._path(container_id).read_text())
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return None

    def save(self, attachment: Attachment) -> None:
        write_atomically(self._path(attachment.container_id), attachment.to_json().encode())

    def forget(self, container_id: str) -> None:
        self._path(container_id).unlink(missing_ok=True)

    def _path(self, container_id: str) -> Path:
        return self.attachments_dir / f"{container_id}.json"
