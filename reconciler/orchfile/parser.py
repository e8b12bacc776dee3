"""Parse one Orchfile's text into a `RawFile`: syntax only, no expansion, no constraints.

Two passes, as the reference does: ARGs are collected first (they may appear anywhere,
and an ARG error stops the file there), then every other line is read into its
service. Errors are collected, not raised one by one, so a user sees all the syntax
errors of a file at once; each names the file and line.

Within one file: a second FROM or RUN is an error, other scalars take the last value,
ENV takes the last value per key (kept at the key's first position), and list
directives keep every entry as written. CLEAR empties what the block gathered so far
and marks the list so that an overlay's merge replaces rather than extends it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, TypeVar

from reconciler.errors import Diagnostic, InvalidOrchfile, Location
from reconciler.model.secret import Secret
from reconciler.orchfile.document import SPEC_VERSION
from reconciler.orchfile.lines import Line, directive_lines, words
from reconciler.orchfile.raw import (
    CONTAINER_ONLY,
    HOST_ONLY,
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

MAX_NAME_BYTES: Final = 63
_SCALARS: Final = {s.value: s for s in Scalar}
_LISTS: Final = {k.value: k for k in ListKind}
_NAME_CHAR: Final = re.compile(r"[a-z0-9-]")
_T = TypeVar("_T")


def parse_text(text: str, file: str) -> RawFile:
    """Parse one file; raise `InvalidOrchfile` with every syntax error found."""
    lines = list(directive_lines(text))
    args, arg_errors = _collect_args(lines, file)
    if arg_errors:
        raise InvalidOrchfile(arg_errors)
    parser = _FileParser(file)
    for line in lines:
        parser.feed(line)
    services = parser.finish()
    if parser.errors:
        raise InvalidOrchfile(parser.errors)
    return RawFile(args=MappingProxyType(args), services=services)


def service_name_error(name: str) -> str | None:
    """Why `name` is not a valid service name, or None when it is."""
    size = len(name.encode())
    if size > MAX_NAME_BYTES:
        return f"service name '{name}' exceeds 63 character limit ({size})"
    if not ("a" <= name[0] <= "z"):
        return f"service name '{name}' must start with a lowercase letter"
    for char in name:
        if not _NAME_CHAR.fullmatch(char):
            return (
                f"service name '{name}' contains invalid character '{char}' "
                "(only lowercase alphanumeric and hyphens allowed)"
            )
    return None


def _collect_args(lines: list[Line], file: str) -> tuple[dict[str, RawArg], list[Diagnostic]]:
    args: dict[str, RawArg] = {}
    errors: list[Diagnostic] = []
    for line in lines:
        if line.directive != "ARG":
            continue
        at = Location(file=file, line=line.number)
        if line.value is None:
            errors.append(Diagnostic(location=at, message="ARG requires name=value"))
            continue
        name, eq, default = line.value.partition("=")
        if not eq:
            message = f"invalid ARG format '{line.value}', expected name=value"
            errors.append(Diagnostic(location=at, message=message))
        elif not name:
            errors.append(Diagnostic(location=at, message="ARG name cannot be empty"))
        else:
            args[name] = RawArg(name=name, default=default, at=at)
    return args, errors


@dataclass(kw_only=True)
class _ServiceBuilder:
    """A service block being read."""

    name: str
    at: Location
    from_: Sourced | None = None
    run: Sourced | None = None
    scalars: dict[Scalar, Sourced] = field(default_factory=dict)
    env: dict[str, EnvEntry] = field(default_factory=dict)
    lists: dict[ListKind, list[object]] = field(
        default_factory=lambda: {kind: [] for kind in ListKind}
    )
    cleared: set[ListKind] = field(default_factory=set)
    container_uses: list[ModeDirective] = field(default_factory=list)
    host_uses: list[ModeDirective] = field(default_factory=list)

    def clear(self, kind: ListKind) -> None:
        self.cleared.add(kind)
        self.lists[kind].clear()
        if kind is ListKind.ENV:
            self.env.clear()

    def _items(self, kind: ListKind, cls: type[_T]) -> RawList[_T]:
        entries = [e for e in self.lists[kind] if isinstance(e, cls)]
        return RawList(items=tuple(entries), cleared=kind in self.cleared)

    def build(self) -> RawService:
        return RawService(
            name=self.name,
            at=self.at,
            from_=self.from_,
            run=self.run,
            scalars=MappingProxyType(dict(self.scalars)),
            env=RawList(items=tuple(self.env.values()), cleared=ListKind.ENV in self.cleared),
            env_files=self._items(ListKind.ENV_FILE, Word),
            publish=self._items(ListKind.PUBLISH, PublishEntry),
            volumes=self._items(ListKind.VOLUME, VolumeEntry),
            requires=self._items(ListKind.REQUIRES, Word),
            after=self._items(ListKind.AFTER, Word),
            container_uses=tuple(self.container_uses),
            host_uses=tuple(self.host_uses),
        )


class _FileParser:
    """Pass 2 over one file's lines: services and their directives."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[Diagnostic] = []
        self.services: list[RawService] = []
        self.current: _ServiceBuilder | None = None
        self.seen_names: dict[str, int] = {}
        self.version_line: int | None = None
        self.in_services = False

    def error(self, line: Line, message: str) -> None:
        self.errors.append(
            Diagnostic(location=Location(file=self.file, line=line.number), message=message)
        )

    def finish(self) -> tuple[RawService, ...]:
        self._close_service()
        return tuple(self.services)

    def _close_service(self) -> None:
        if self.current is not None:
            self.services.append(self.current.build())
        self.current = None

    def feed(self, line: Line) -> None:
        match line.directive:
            case "ARG":
                return
            case "ORCH_VERSION":
                self._version(line)
            case "SERVICE":
                self._service(line)
            case "CLEAR":
                self._clear(line)
            case _ if self.current is None:
                self.error(line, f"directive '{line.directive}' outside of SERVICE block")
            case _:
                self._directive(self.current, line)

    def _version(self, line: Line) -> None:
        if self.in_services:
            self.error(line, "ORCH_VERSION must appear before any SERVICE")
        elif self.version_line is not None:
            self.error(
                line,
                f"duplicate ORCH_VERSION directive (first defined at line {self.version_line})",
            )
        else:
            self.version_line = line.number
            if line.value is None:
                self.error(line, "ORCH_VERSION requires a version value")
            elif line.value != SPEC_VERSION:
                self.error(
                    line,
                    f"unsupported Orchfile version '{line.value}' "
                    f"(this parser supports {SPEC_VERSION})",
                )

    def _service(self, line: Line) -> None:
        self._close_service()
        self.in_services = True
        at = Location(file=self.file, line=line.number)
        if line.value is None:
            self.error(line, "SERVICE requires a name")
            return
        name = line.value
        if (problem := service_name_error(name)) is not None:
            self.error(line, problem)
        elif (first := self.seen_names.get(name)) is not None:
            self.error(line, f"duplicate service name '{name}' (first defined at line {first})")
        else:
            self.seen_names[name] = line.number
            self.current = _ServiceBuilder(name=name, at=at)
            return
        # Like the reference: a rejected SERVICE line opens no block, so the lines after
        # it are reported as outside of one.
        self.current = None

    def _clear(self, line: Line) -> None:
        if self.current is None:
            self.error(line, "CLEAR outside of SERVICE block")
            return
        target = line.value
        if target is None:
            self.error(line, "CLEAR requires a target directive name")
        elif (kind := _LISTS.get(target)) is not None:
            self.current.clear(kind)
        elif target in _SCALARS or target in ("FROM", "RUN"):
            self.error(
                line,
                f"CLEAR cannot target scalar directive '{target}' (scalars override by last-wins)",
            )
        else:
            self.error(line, f"CLEAR targets unknown directive '{target}'")

    def _directive(self, service: _ServiceBuilder, line: Line) -> None:
        directive = line.directive
        at = Location(file=self.file, line=line.number)
        if directive in CONTAINER_ONLY:
            service.container_uses.append(ModeDirective(directive=directive, at=at))
        elif directive in HOST_ONLY:
            service.host_uses.append(ModeDirective(directive=directive, at=at))
        known = directive in ("FROM", "RUN") or directive in _SCALARS or directive in _LISTS
        if not known:
            self.error(line, f"unknown directive '{directive}'")
            return
        value = line.value
        if value is None:
            self.error(line, f"{directive} requires a value")
            return
        if directive in ("FROM", "RUN"):
            self._mode(service, line, value, at)
        elif (scalar := _SCALARS.get(directive)) is not None:
            service.scalars[scalar] = Sourced(text=value, at=at)
        else:
            self._list_entry(service, _LISTS[directive], line, value, at)

    def _mode(self, service: _ServiceBuilder, line: Line, value: str, at: Location) -> None:
        if line.directive == "FROM":
            if service.from_ is not None:
                self.error(line, "duplicate FROM directive")
            else:
                service.from_ = Sourced(text=value, at=at)
        elif service.run is not None:
            self.error(line, "duplicate RUN directive")
        else:
            service.run = Sourced(text=value, at=at)

    def _list_entry(
        self, service: _ServiceBuilder, kind: ListKind, line: Line, value: str, at: Location
    ) -> None:
        match kind:
            case ListKind.ENV:
                key, eq, env_value = value.partition("=")
                if not eq:
                    # Only the first word: `ENV PASSWORD hunter2` has its value after it.
                    parts = value.split()
                    shown = parts[0] if len(parts) == 1 else f"{parts[0] if parts else ''} ..."
                    self.error(line, f"invalid ENV format '{shown}', expected KEY=value")
                elif not key:
                    self.error(line, "ENV key cannot be empty")
                else:
                    service.env[key] = EnvEntry(key=key, value=Secret(env_value), at=at)
            case ListKind.PUBLISH:
                parts = value.split(":")
                if len(parts) < 2:
                    self.error(
                        line,
                        f"invalid PUBLISH format '{value}', "
                        "expected [address:]host_port:container_port",
                    )
                else:
                    service.lists[kind].append(
                        PublishEntry(
                            address=":".join(parts[:-2]),
                            host=parts[-2],
                            container=parts[-1],
                            at=at,
                        )
                    )
            case ListKind.VOLUME:
                source, colon, destination = value.partition(":")
                if not colon:
                    self.error(
                        line, f"invalid VOLUME format '{value}', expected source:destination"
                    )
                else:
                    service.lists[kind].append(
                        VolumeEntry(source=source, destination=destination, at=at)
                    )
            case ListKind.ENV_FILE:
                service.lists[kind].append(Word(text=value, at=at))
            case ListKind.REQUIRES | ListKind.AFTER:
                service.lists[kind].extend(Word(text=w, at=at) for w in words(value))
