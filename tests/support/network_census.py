"""The network objects of one containerd namespace on this host, read from outside the
product with `ip`, `iptables` and the file system: what a test requires to be gone.

Names follow the documented scheme (docs/networks.md): namespaces `orch-<ns>--<id>`, CNI
network `orch-<ns>-<project>`, bridge `orch-` and the first ten hex digits of
sha256(`<ns>/<project>`).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path


def bridge_name(namespace: str, project: str) -> str:
    return "orch-" + hashlib.sha256(f"{namespace}/{project}".encode()).hexdigest()[:10]


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=False).stdout


def namespaces(namespace: str, project: str = "") -> list[str]:
    names = [line.split()[0] for line in _run("ip", "netns", "list").splitlines() if line]
    prefix = f"orch-{namespace}--{project}-" if project else f"orch-{namespace}--"
    return sorted(n for n in names if n.startswith(prefix))


def links_on(bridge: str) -> list[str]:
    text = _run("ip", "-j", "link", "show", "master", bridge)
    return sorted(link["ifname"] for link in json.loads(text or "[]"))


def bridge_exists(bridge: str) -> bool:
    return Path("/sys/class/net", bridge, "bridge").is_dir()


def nat_rules(namespace: str, project: str = "") -> list[str]:
    marker = f'name: \\"orch-{namespace}-{project}\\"' if project else f'name: \\"orch-{namespace}-'
    return [
        line for line in _run("iptables", "-w", "-t", "nat", "-S").splitlines() if marker in line
    ]


def ipam_allocations(state: Path, namespace: str, project: str = "*") -> list[Path]:
    root = state / "projects" / namespace
    return sorted(
        path
        for path in root.glob(f"{project}/network/ipam/*/*")
        if path.name[0].isdigit() and not path.name.startswith("last_reserved")
    )


def network_objects(
    state: Path, namespace: str, projects: list[str], *, only_projects: bool = False
) -> list[str]:
    """Everything of the namespace's network still on the host, one line per object
    (with `only_projects`, of those projects alone)."""
    scopes = projects if only_projects else [""]
    found = [f"netns {name}" for scope in scopes for name in namespaces(namespace, scope)]
    for project in projects:
        bridge = bridge_name(namespace, project)
        if bridge_exists(bridge):
            found.append(f"bridge {bridge} of {project}")
            found += [f"link {link} on {bridge}" for link in links_on(bridge)]
    found += [f"rule {rule}" for scope in scopes for rule in nat_rules(namespace, scope)]
    found += [
        f"ipam {path}"
        for scope in scopes
        for path in ipam_allocations(state, namespace, scope or "*")
    ]
    return found
