"""The document as the reference's JSON: field order, omissions and number formats.

`to_tree` builds the plain tree (dicts in field order, lists, strings, numbers, bools)
that both the JSON and the YAML form print. Optional strings that are unset and lists
or maps that are empty are omitted; `oneshot`, `disabled`, `recreate`, `restart`,
`timeouts`, `resources` and `logging` are always there. `to_json` prints it the way
serde_json's pretty printer does: two-space indent, UTF-8 as is, `cpus` always a float
(`2.0`), exponents without `+` or leading zeros, and non-finite floats as `null`.

ENV values are revealed here on purpose: `render` prints the user's own desired state.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring
from typing import Any, TypeAlias

from reconciler.orchfile.document import Document, Service

Tree: TypeAlias = dict[str, Any]


def to_tree(document: Document) -> Tree:
    return {
        "version": document.version,
        "args": dict(document.args),
        "services": [_service(s) for s in document.services],
    }


def _service(service: Service) -> Tree:
    tree: Tree = {"name": service.name, "mode": service.mode.value}
    _put(tree, "image", service.image)
    _put(tree, "run_command", service.run_command)
    _put(tree, "entrypoint", service.entrypoint)
    _put(tree, "cmd", service.cmd)
    publish = []
    for port in service.publish:
        entry: Tree = {}
        _put(entry, "address", port.address)
        entry["host"] = port.host
        entry["container"] = port.container
        publish.append(entry)
    _put(tree, "publish", publish)
    _put(
        tree,
        "volumes",
        [
            {"source": v.source, "destination": v.destination, "is_named": v.is_named}
            for v in service.volumes
        ],
    )
    _put(tree, "user", service.user)
    _put(tree, "stop_command", service.stop_command)
    _put(tree, "reload_command", service.reload_command)
    _put(tree, "workdir", service.workdir)
    _put(tree, "env", {key: value.reveal() for key, value in service.env.items()})
    _put(tree, "env_files", list(service.env_files))
    _put(tree, "requires", list(service.requires))
    _put(tree, "after", list(service.after))
    _put(tree, "healthcheck", service.healthcheck)
    _put(tree, "readiness_timeout", service.readiness_timeout)
    tree["oneshot"] = service.oneshot
    tree["disabled"] = service.disabled
    tree["recreate"] = service.recreate.value
    restart: Tree = {"policy": service.restart.policy.value}
    _put(restart, "delay", service.restart.delay)
    _put(restart, "start_limit_burst", service.restart.start_limit_burst)
    _put(restart, "start_limit_interval", service.restart.start_limit_interval)
    tree["restart"] = restart
    timeouts: Tree = {}
    _put(timeouts, "start", service.timeouts.start)
    _put(timeouts, "stop", service.timeouts.stop)
    tree["timeouts"] = timeouts
    resources: Tree = {}
    limits = service.resources
    _put(resources, "memory", limits.memory)
    _put(resources, "cpus", limits.cpus)
    _put(resources, "cpu_quota", limits.cpu_quota)
    _put(resources, "limit_nofile", limits.limit_nofile)
    _put(resources, "limit_nproc", limits.limit_nproc)
    _put(resources, "tasks_max", limits.tasks_max)
    _put(resources, "io_weight", limits.io_weight)
    tree["resources"] = resources
    logging: Tree = {}
    _put(logging, "stdout", service.logging.stdout)
    _put(logging, "stderr", service.logging.stderr)
    tree["logging"] = logging
    return tree


def _put(tree: Tree, key: str, value: object) -> None:
    if value is None or (isinstance(value, list | dict) and not value):
        return
    tree[key] = value


def to_json(document: Document) -> str:
    return _dump(to_tree(document), 0)


def _dump(value: object, depth: int) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (f"{inner}{encode_basestring(k)}: {_dump(v, depth + 1)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(f"{inner}{_dump(v, depth + 1)}" for v in value) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def _float(value: float) -> str:
    """A float as serde_json prints it (Rust's `ryu`): the shortest digits that read back
    exactly, in decimal notation when the point falls within 16 digits of them
    (`2.0`, `0.5`, `0.00005`) and scientific otherwise (`1e16`, `1.5e-7`)."""
    if not math.isfinite(value):
        return "null"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0") or "0"
    # value = 0.<digits> x 10^point, i.e. `point` digits sit before the decimal point.
    point = (int(exponent) if exponent else 0) + len(whole) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0") or "0"
    length = len(digits)
    if digits == "0":
        return f"{sign}0.0"
    if length <= point <= 16:
        return f"{sign}{digits}{'0' * (point - length)}.0"
    if 0 < point <= 16:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -5 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    exp = point - 1
    if length == 1:
        return f"{sign}{digits}e{exp}"
    return f"{sign}{digits[0]}.{digits[1:]}e{exp}"
