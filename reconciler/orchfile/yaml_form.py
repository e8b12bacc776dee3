"""The YAML form of the Orch model: printed by `render -o yaml`, accepted as input.

Output is the same tree as the JSON form (`render.to_tree`), so Orch → YAML → JSON
gives the JSON that Orch → JSON gives. Input is a mapping with a `services:` key whose
value is that list of services (or a mapping from name to service), plus optional
`version` and `args`. A YAML file is read into the same unexpanded `RawFile` an Orch
text file becomes, so it can be the base or an overlay of Orch files, and it merges,
expands and is validated by the very same code. An overlay service may say
`clear: [ENV, PUBLISH, ...]`, the YAML spelling of CLEAR. Errors name the file and line.
A document with `expanded: true` (what `render -o yaml` writes) is taken literally: its
values were expanded when it was rendered, and are not expanded again.
"""

from __future__ import annotations

import io
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from reconciler.errors import Diagnostic, InvalidOrchfile, Location
from reconciler.model.secret import Secret
from reconciler.orchfile.document import SPEC_VERSION, Document
from reconciler.orchfile.parser import service_name_error
from reconciler.orchfile.raw import (
    CONTAINER_ONLY,
    EnvEntry,
    ListKind,
    ModeDirective,
    PublishEntry,
    RawArg,
    RawFile,
    RawList,
    RawService,
    Scalar,
    Sourced,
    VolumeEntry,
    Word,
)
from reconciler.orchfile.render import to_tree

if TYPE_CHECKING:
    from ruamel.yaml import YAML

_TOP_KEYS: Final = frozenset({"version", "args", "services", "expanded"})
# Line breaks YAML would fold in a plain or single-quoted scalar: such strings are
# written double-quoted, where they are escaped.
_LINE_BREAKS: Final = frozenset("\n\r\x85\u2028\u2029")
_SCALAR_FIELDS: Final = {
    "entrypoint": Scalar.ENTRYPOINT,
    "cmd": Scalar.CMD,
    "user": Scalar.USER,
    "stop_command": Scalar.STOP,
    "reload_command": Scalar.RELOAD,
    "workdir": Scalar.WORKDIR,
    "healthcheck": Scalar.HEALTHCHECK,
    "readiness_timeout": Scalar.READINESS_TIMEOUT,
    "oneshot": Scalar.ONESHOT,
    "disabled": Scalar.DISABLED,
    "recreate": Scalar.RECREATE,
}
_NESTED_FIELDS: Final = {
    "restart": {
        "policy": Scalar.RESTART,
        "delay": Scalar.RESTART_DELAY,
        "start_limit_burst": Scalar.START_LIMIT_BURST,
        "start_limit_interval": Scalar.START_LIMIT_INTERVAL,
    },
    "timeouts": {"start": Scalar.TIMEOUT_START, "stop": Scalar.TIMEOUT_STOP},
    "resources": {
        "memory": Scalar.MEMORY,
        "cpus": Scalar.CPUS,
        "cpu_quota": Scalar.CPU_QUOTA,
        "limit_nofile": Scalar.LIMIT_NOFILE,
        "limit_nproc": Scalar.LIMIT_NPROC,
        "tasks_max": Scalar.TASKS_MAX,
        "io_weight": Scalar.IO_WEIGHT,
    },
    "logging": {"stdout": Scalar.STDOUT, "stderr": Scalar.STDERR},
}
_LIST_FIELDS: Final = {
    "publish": ListKind.PUBLISH,
    "volumes": ListKind.VOLUME,
    "env": ListKind.ENV,
    "env_files": ListKind.ENV_FILE,
    "requires": ListKind.REQUIRES,
    "after": ListKind.AFTER,
}
_SERVICE_KEYS: Final = frozenset(
    {"name", "mode", "image", "run_command", "clear"}
    | set(_SCALAR_FIELDS)
    | set(_NESTED_FIELDS)
    | set(_LIST_FIELDS)
)
# The JSON form spells the policy with an underscore, the Orch text with a hyphen.
_RESTART_SPELLINGS: Final = {"on_failure": "on-failure"}
_MODE_DIRECTIVES: Final = {
    "entrypoint": "ENTRYPOINT",
    "cmd": "CMD",
    "publish": "PUBLISH",
    "volumes": "VOLUME",
    "user": "USER",
    "stop_command": "STOP",
    "reload_command": "RELOAD",
}


def to_yaml(document: Document) -> str:
    """The document as YAML. `expanded: true` tells a reader that its values were
    expanded already, so reading it back expands nothing twice."""
    stream = io.StringIO()
    tree = to_tree(document)
    _yaml().dump({**tree, "expanded": True}, stream)
    return stream.getvalue()


def looks_like_yaml(text: str) -> bool:
    """True when the first significant line is a YAML document start or a top-level key
    of the YAML form; no Orch directive is followed by a colon."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return stripped == "---" or (stripped.split(":", 1)[0] in _TOP_KEYS and ":" in stripped)
    return False


def parse_yaml(text: str, file: str) -> RawFile:
    from ruamel.yaml.error import YAMLError

    try:
        tree = _yaml().load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        at = Location(file=file, line=line)
        raise InvalidOrchfile(
            [Diagnostic(location=at, message=f"invalid YAML: {problem}")]
        ) from None
    literal = isinstance(tree, dict) and tree.get("expanded") is True
    reader = _Reader(file, literal=literal)
    raw = reader.file(tree)
    if reader.errors:
        raise InvalidOrchfile(reader.errors)
    return raw


def _yaml() -> YAML:
    """ruamel's round-trip YAML, set up for the form. Imported here, not at the top: most
    Orchfiles are Orch text and `render` prints JSON by default, so most commands never
    need it."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(str, _represent_str)
    return yaml


def _represent_str(representer: Any, data: str) -> Any:
    style = '"' if _LINE_BREAKS.intersection(data) else None
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


class _Reader:
    """Walks the loaded YAML tree into a RawFile, collecting located errors."""

    def __init__(self, file: str, *, literal: bool) -> None:
        self.path = file
        self.literal = literal
        self.errors: list[Diagnostic] = []

    def at(self, node: Any, key: object = None) -> Location:
        """The 1-based line of `node` (or of its item `key`), 0 when unknown."""
        lc = getattr(node, "lc", None)
        if lc is None:
            return Location(file=self.path, line=0)
        try:
            if key is None:
                line = lc.line
            elif isinstance(node, list):
                line = lc.item(key)[0]
            else:
                line = lc.key(key)[0]
        except (KeyError, IndexError, TypeError):
            line = lc.line
        return Location(file=self.path, line=line + 1)

    def error(self, at: Location, message: str) -> None:
        self.errors.append(Diagnostic(location=at, message=message))

    def file(self, tree: Any) -> RawFile:
        if not isinstance(tree, dict) or "services" not in tree:
            self.error(Location(file=self.path, line=1), "a YAML Orchfile needs a 'services:' key")
            return RawFile()
        for key in tree:
            if key not in _TOP_KEYS:
                self.error(self.at(tree, key), f"unknown top-level key '{key}'")
        version = tree.get("version")
        if version is not None and str(version) != SPEC_VERSION:
            self.error(
                self.at(tree, "version"),
                f"unsupported Orchfile version '{version}' (this parser supports {SPEC_VERSION})",
            )
        return RawFile(args=MappingProxyType(self.args(tree)), services=self.services(tree))

    def args(self, tree: Any) -> dict[str, RawArg]:
        node = tree.get("args") or {}
        if not isinstance(node, dict):
            self.error(self.at(tree, "args"), "'args' must be a mapping of name to default")
            return {}
        args = {}
        for name, default in node.items():
            at = self.at(node, name)
            if (text := self.text(default, at, f"ARG '{name}'")) is not None:
                args[str(name)] = RawArg(name=str(name), default=text, at=at)
        return args

    def services(self, tree: Any) -> tuple[RawService, ...]:
        node = tree["services"]
        if node is None:
            return ()
        bodies: list[tuple[str, Any, Location]] = []
        if isinstance(node, list):
            for index, body in enumerate(node):
                at = self.at(node, index)
                name = body.get("name") if isinstance(body, dict) else None
                if not isinstance(name, str):
                    self.error(at, "every service needs a 'name'")
                    continue
                bodies.append((name, body, at))
        elif isinstance(node, dict):
            for name, body in node.items():
                bodies.append((str(name), body if body is not None else {}, self.at(node, name)))
        else:
            self.error(self.at(tree, "services"), "'services' must be a list or a mapping")
        services, seen = [], set()
        for name, body, at in bodies:
            if problem := service_name_error(name) if name else "SERVICE requires a name":
                self.error(at, problem)
            elif name in seen:
                self.error(at, f"duplicate service name '{name}'")
            elif not isinstance(body, dict):
                self.error(at, f"service '{name}' must be a mapping")
            else:
                seen.add(name)
                services.append(self.service(name, body, at))
        return tuple(services)

    def text(self, value: Any, at: Location, what: str) -> str | None:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value)
        self.error(at, f"{what} must be a string or a number")
        return None

    def service(self, name: str, body: dict[str, Any], at: Location) -> RawService:
        scalars: dict[Scalar, Sourced] = {}
        uses: dict[str, list[ModeDirective]] = {"container": [], "host": []}
        for key, value in body.items():
            key_at = self.at(body, key)
            if key not in _SERVICE_KEYS:
                self.error(key_at, f"service '{name}': unknown field '{key}'")
            elif (directive := _MODE_DIRECTIVES.get(key)) is not None and value:
                side = "container" if directive in CONTAINER_ONLY else "host"
                uses[side].append(ModeDirective(directive=directive, at=key_at))

        def sourced(value: Any, where: Location, what: str) -> Sourced | None:
            text = self.text(value, where, f"service '{name}': {what}")
            return None if text is None else Sourced(text=text, at=where, literal=self.literal)

        from_ = sourced(body["image"], self.at(body, "image"), "image") if "image" in body else None
        run = (
            sourced(body["run_command"], self.at(body, "run_command"), "run_command")
            if "run_command" in body
            else None
        )
        for key, scalar in _SCALAR_FIELDS.items():
            if body.get(key) is not None and (s := sourced(body[key], self.at(body, key), key)):
                scalars[scalar] = s
        for group, fields in _NESTED_FIELDS.items():
            self.nested(name, body, group, fields, scalars)
        mode = body.get("mode")
        if mode is not None and mode not in ("container", "host"):
            self.error(self.at(body, "mode"), f"service '{name}': mode must be container or host")
        cleared = self.cleared(name, body)
        lists = _ListReader(self, name, body)
        return RawService(
            name=name,
            at=at,
            from_=from_,
            run=run,
            scalars=MappingProxyType(scalars),
            env=RawList(items=lists.env(), cleared=ListKind.ENV in cleared),
            env_files=RawList(items=lists.words("env_files"), cleared=ListKind.ENV_FILE in cleared),
            publish=RawList(items=lists.publish(), cleared=ListKind.PUBLISH in cleared),
            volumes=RawList(items=lists.volumes(), cleared=ListKind.VOLUME in cleared),
            requires=RawList(items=lists.words("requires"), cleared=ListKind.REQUIRES in cleared),
            after=RawList(items=lists.words("after"), cleared=ListKind.AFTER in cleared),
            container_uses=tuple(uses["container"]),
            host_uses=tuple(uses["host"]),
        )

    def nested(
        self,
        name: str,
        body: dict[str, Any],
        group: str,
        fields: dict[str, Scalar],
        scalars: dict[Scalar, Sourced],
    ) -> None:
        node = body.get(group)
        if node is None:
            return
        if not isinstance(node, dict):
            self.error(self.at(body, group), f"service '{name}': '{group}' must be a mapping")
            return
        for key, value in node.items():
            where = self.at(node, key)
            scalar = fields.get(key)
            if scalar is None:
                self.error(where, f"service '{name}': unknown field '{group}.{key}'")
            elif value is not None:
                text = self.text(value, where, f"service '{name}': {group}.{key}")
                if text is not None:
                    if scalar is Scalar.RESTART:
                        text = _RESTART_SPELLINGS.get(text, text)
                    scalars[scalar] = Sourced(text=text, at=where, literal=self.literal)

    def cleared(self, name: str, body: dict[str, Any]) -> set[ListKind]:
        node = body.get("clear") or []
        targets = [node] if isinstance(node, str) else node
        kinds = set()
        for target in targets if isinstance(targets, list) else [targets]:
            try:
                kinds.add(ListKind(str(target)))
            except ValueError:
                self.error(self.at(body, "clear"), f"CLEAR targets unknown directive '{target}'")
        return kinds


class _ListReader:
    """Reads the list fields of one service body."""

    def __init__(self, reader: _Reader, name: str, body: dict[str, Any]) -> None:
        self.reader, self.name, self.body = reader, name, body

    def _entries(self, key: str) -> list[tuple[Any, Location]]:
        node = self.body.get(key)
        if node is None:
            return []
        if isinstance(node, dict) and key == "env":
            return [((k, v), self.reader.at(node, k)) for k, v in node.items()]
        if isinstance(node, str) and key in ("requires", "after"):
            return [(word, self.reader.at(self.body, key)) for word in node.split()]
        if not isinstance(node, list):
            self.reader.error(
                self.reader.at(self.body, key), f"service '{self.name}': '{key}' must be a list"
            )
            return []
        return [(item, self.reader.at(node, i)) for i, item in enumerate(node)]

    def _text(self, value: Any, at: Location, what: str) -> str | None:
        return self.reader.text(value, at, f"service '{self.name}': {what}")

    def env(self) -> tuple[EnvEntry, ...]:
        entries: dict[str, EnvEntry] = {}
        for item, at in self._entries("env"):
            pair: tuple[Any, Any] | None = item if isinstance(item, tuple) else None
            if pair is None and isinstance(item, str) and "=" in item:
                pair = tuple(item.split("=", 1))  # type: ignore[assignment]
            if pair is None or not str(pair[0]):
                self.reader.error(at, f"service '{self.name}': ENV entries are KEY: value")
                continue
            value = "" if pair[1] is None else self._text(pair[1], at, f"ENV {pair[0]}")
            if value is not None:
                key = str(pair[0])
                entries[key] = EnvEntry(
                    key=key, value=Secret(value), at=at, literal=self.reader.literal
                )
        return tuple(entries.values())

    def words(self, key: str) -> tuple[Word, ...]:
        result = []
        for item, at in self._entries(key):
            if (text := self._text(item, at, key)) is not None:
                result.append(Word(text=text, at=at, literal=self.reader.literal))
        return tuple(result)

    def publish(self) -> tuple[PublishEntry, ...]:
        result = []
        for item, at in self._entries("publish"):
            if isinstance(item, dict) and {"host", "container"} <= set(item):
                address = item.get("address")
                result.append(
                    PublishEntry(
                        address="" if address is None else str(address),
                        host=str(item["host"]),
                        container=str(item["container"]),
                        at=at,
                        literal=self.reader.literal,
                    )
                )
            elif isinstance(item, str) and item.count(":") >= 1:
                parts = item.split(":")
                result.append(
                    PublishEntry(
                        address=":".join(parts[:-2]),
                        host=parts[-2],
                        container=parts[-1],
                        at=at,
                        literal=self.reader.literal,
                    )
                )
            else:
                self.reader.error(
                    at,
                    f"service '{self.name}': invalid PUBLISH entry, expected "
                    "{host, container, address?} or [address:]host_port:container_port",
                )
        return tuple(result)

    def volumes(self) -> tuple[VolumeEntry, ...]:
        result = []
        for item, at in self._entries("volumes"):
            if isinstance(item, dict) and {"source", "destination"} <= set(item):
                result.append(
                    VolumeEntry(
                        source=str(item["source"]),
                        destination=str(item["destination"]),
                        at=at,
                        literal=self.reader.literal,
                    )
                )
            elif isinstance(item, str) and ":" in item:
                source, _, destination = item.partition(":")
                result.append(
                    VolumeEntry(
                        source=source,
                        destination=destination,
                        at=at,
                        literal=self.reader.literal,
                    )
                )
            else:
                self.reader.error(
                    at,
                    f"service '{self.name}': invalid VOLUME entry, expected "
                    "{source, destination} or source:destination",
                )
        return tuple(result)
