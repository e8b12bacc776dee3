"""An export's objects as text: one YAML stream, one JSON List, or one file per object.

YAML is what people apply (`kubectl apply -f`): one document per object, each opened
by `---`. kubectl reads YAML 1.1, where `no`, `on`, `0755` or `1:20` are not strings, so
every string a YAML 1.1 or 1.2 reader would take for something else is double-quoted
(an argument `no` must stay the word "no"). JSON is a `v1` `List` of the objects, as
`kubectl get -o json` prints several, keys in the same order as the YAML. In a folder,
each object is a file named `<name>-<kind>.yaml` (or `.json`), as kompose names them.
The text depends only on the objects: the same export gives the same bytes.
"""

from __future__ import annotations

import enum
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from reconciler.export.kube import KubeObject
from reconciler.export.tree import JsonObject, to_tree

_STR_TAG: Final = "tag:yaml.org,2002:str"
_YAML_1_1: Final = VersionedResolver(version=(1, 1))


class OutputFormat(enum.Enum):
    YAML = "yaml"
    JSON = "json"


@dataclass(frozen=True, kw_only=True)
class ManifestFile:
    name: str
    text: str


def render(objects: Sequence[KubeObject], output: OutputFormat) -> str:
    trees = [to_tree(obj) for obj in objects]
    match output:
        case OutputFormat.YAML:
            return _yaml_stream(trees)
        case OutputFormat.JSON:
            return _json({"apiVersion": "v1", "kind": "List", "items": list(trees)})


def manifest_files(objects: Sequence[KubeObject], output: OutputFormat) -> tuple[ManifestFile, ...]:
    files = []
    for obj in objects:
        tree = to_tree(obj)
        name = f"{obj.metadata.name}-{obj.KIND.lower()}.{output.value}"
        match output:
            case OutputFormat.YAML:
                files.append(ManifestFile(name=name, text=_yaml_stream([tree])))
            case OutputFormat.JSON:
                files.append(ManifestFile(name=name, text=_json(tree)))
    return tuple(files)


def _json(tree: JsonObject) -> str:
    return json.dumps(tree, indent=2, ensure_ascii=False) + "\n"


def _yaml_stream(trees: Sequence[JsonObject]) -> str:
    if not trees:
        return ""
    buffer = io.StringIO()
    _yaml().dump_all(trees, buffer)
    return buffer.getvalue()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.explicit_start = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(str, _represent_str)
    return yaml


def _represent_str(representer: Any, data: str) -> Any:
    """Plain when every YAML reader takes it for a string, else double-quoted."""
    as_yaml_1_1 = _YAML_1_1.resolve(ScalarNode, data, (True, False))
    style = '"' if as_yaml_1_1 != _STR_TAG or "\n" in data else None
    return representer.represent_scalar(_STR_TAG, data, style=style)
