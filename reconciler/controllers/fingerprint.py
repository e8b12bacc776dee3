"""The config hash: one digest of everything that, when it changes, needs a new unit.

It covers the service's effective configuration (command, image reference and the
digest it resolved to, env including the *content* of ENV_FILEs, workdir, volumes,
ports, the network mode, resources, log paths), and nothing that can change in place
(restart policy, health checks, timeouts, dependencies). Besides the digest it keeps a
short digest per part (`env.DB_URL`, `cmd`, `image`...), stored in a label so a later
plan can say *what* changed (`config changed (ENV DB_URL)`) without ever storing a value.
Every digest is an HMAC keyed with the host's fingerprint key (`app.fingerprint_key`,
0600 under the state dir): an unkeyed digest of a short value (a PIN, a word) is undone
by trying them all, and labels are shown to anyone who may list containers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from reconciler.model.desired import BindMount, DesiredService, NamedVolume
from reconciler.model.fingerprint import PART_DIGEST_CHARS, ConfigHash, Fingerprint
from reconciler.model.secret import Secret


def _digest(value: object, key: bytes) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def fingerprint(
    service: DesiredService,
    *,
    image_digest: str | None,
    env_files: Sequence[Mapping[str, Secret]],
    key: bytes,
) -> Fingerprint:
    parts: dict[str, object] = {
        "mode": service.mode.value,
        "command": service.command,
        "entrypoint": service.entrypoint,
        "cmd": service.cmd,
        "user": service.user,
        "workdir": service.workdir,
        "publish": [(p.address, p.host, p.container) for p in service.publish],
        "volumes": [_volume(v) for v in service.volumes],
        "resources": service.resources,
        "logs": (str(service.stdout), str(service.stderr)),
    }
    if service.on_project_network:
        # Only then: a container in the host's network hashes as it always did, so
        # switching to the project network (or back) adds (or drops) this part: a recreate
        # whose cause names it.
        parts["network"] = service.network.value
    if service.image is not None:
        parts["image"] = (repr(service.image), image_digest)
    for variable, value in service.env.items():
        parts[f"env.{variable}"] = value.reveal()
    for path, content in zip(service.env_files, env_files, strict=True):
        parts[f"env_file.{path}"] = sorted((k, v.reveal()) for k, v in content.items())
    digests = {name: _digest(value, key)[:PART_DIGEST_CHARS] for name, value in parts.items()}
    full = _digest(sorted(digests.items()), key)
    return Fingerprint(config_hash=ConfigHash(full[:16]), parts=MappingProxyType(digests))


def _volume(volume: BindMount | NamedVolume) -> tuple[str, str, str]:
    match volume:
        case BindMount(source=source, destination=destination):
            return ("bind", str(source), destination)
        case NamedVolume(name=name, destination=destination):
            return ("named", name, destination)


def describe_change(names: Sequence[str]) -> str:
    """`ENV DB_URL, cmd` from part names, for a plan's cause."""
    shown = []
    for name in names:
        if name.startswith("env."):
            shown.append(f"ENV {name.removeprefix('env.')}")
        elif name.startswith("env_file."):
            shown.append(f"ENV_FILE {name.removeprefix('env_file.')}")
        else:
            shown.append(name)
    return ", ".join(shown)
