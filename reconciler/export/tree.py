"""Kubernetes objects (`reconciler.export.kube`) as the JSON tree a manifest holds.

One walk over the dataclasses, so every object follows the same rules: `apiVersion` and
`kind` first, then the fields in declaration order under their camelCase names (or the
key a field's metadata names); `None`, empty lists and empty maps are left out, so a
manifest says only what was decided; enums become their values. The tree's key order is
fixed by the types, never by input order or hashing, which is what makes an export's
bytes the same for the same input.

This is the one place where ENV values leave their `Secret` wrapper: a Secret's `data`
values are revealed and base64-encoded here, as the API wants them, and nowhere else.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import re
from collections.abc import Mapping
from typing import Final

from reconciler.export.kube import KubeObject
from reconciler.model.secret import Secret

Json = dict[str, "Json"] | list["Json"] | str | int | float | bool
JsonObject = dict[str, Json]

_SNAKE: Final = re.compile(r"_([a-z])")


def to_tree(obj: KubeObject) -> JsonObject:
    tree: JsonObject = {"apiVersion": obj.API_VERSION, "kind": obj.KIND}
    tree.update(_fields(obj))
    return tree


def camel(name: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def _fields(obj: object) -> JsonObject:
    tree: JsonObject = {}
    for spec in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = _value(getattr(obj, spec.name))
        if value is None:
            continue
        if spec.metadata.get("inline"):
            tree[getattr(type(getattr(obj, spec.name)), "KEY")] = value  # noqa: B009
        else:
            tree[spec.metadata.get("key", camel(spec.name))] = value
    return tree


def _value(value: object) -> Json | None:
    match value:
        case None:
            return None
        case Secret():
            return base64.b64encode(value.reveal().encode()).decode("ascii")
        case enum.Enum():
            return _value(value.value)
        case bool() | int() | float() | str():
            return value
        case Mapping():
            mapping = {str(k): v for k, raw in value.items() if (v := _value(raw)) is not None}
            return mapping or None
        case tuple():
            sequence = [v for item in value if (v := _value(item)) is not None]
            return sequence or None
        case _ if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return _fields(value) or None
    raise TypeError(f"no manifest form for {type(value).__name__}")
