"""The unexpanded form of an Orchfile: what each file says, with where it says it.

Parsing one file produces a `RawFile`; merging overlays combines several into one
`RawFile`; resolving expands ARGs, parses typed values and checks constraints. Every
value keeps its `Location`, so an error found late (a bad port after expansion, a C2
violation after a merge) still names the file and line it came from. Values are kept
as written (before `${}` expansion) because overlays merge keyed lists by that text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Generic, TypeVar

from reconciler.errors import Location
from reconciler.model.secret import Secret


class Scalar(enum.StrEnum):
    """Directives that hold one value per service; a repeated one: the last wins."""

    ENTRYPOINT = "ENTRYPOINT"
    CMD = "CMD"
    USER = "USER"
    STOP = "STOP"
    RELOAD = "RELOAD"
    WORKDIR = "WORKDIR"
    HEALTHCHECK = "HEALTHCHECK"
    READINESS_TIMEOUT = "READINESS_TIMEOUT"
    ONESHOT = "ONESHOT"
    DISABLED = "DISABLED"
    RECREATE = "RECREATE"
    RESTART = "RESTART"
    RESTART_DELAY = "RESTART_DELAY"
    START_LIMIT_BURST = "START_LIMIT_BURST"
    START_LIMIT_INTERVAL = "START_LIMIT_INTERVAL"
    TIMEOUT_START = "TIMEOUT_START"
    TIMEOUT_STOP = "TIMEOUT_STOP"
    MEMORY = "MEMORY"
    CPUS = "CPUS"
    CPU_QUOTA = "CPU_QUOTA"
    LIMIT_NOFILE = "LIMIT_NOFILE"
    LIMIT_NPROC = "LIMIT_NPROC"
    TASKS_MAX = "TASKS_MAX"
    IO_WEIGHT = "IO_WEIGHT"
    STDOUT = "STDOUT"
    STDERR = "STDERR"


class ListKind(enum.StrEnum):
    """Directives that accumulate, and the targets `CLEAR` accepts."""

    ENV = "ENV"
    ENV_FILE = "ENV_FILE"
    PUBLISH = "PUBLISH"
    VOLUME = "VOLUME"
    REQUIRES = "REQUIRES"
    AFTER = "AFTER"


CONTAINER_ONLY: Final = frozenset({"ENTRYPOINT", "CMD", "PUBLISH", "VOLUME"})
HOST_ONLY: Final = frozenset({"USER", "STOP", "RELOAD"})
HOST_SCALARS: Final = (Scalar.USER, Scalar.STOP, Scalar.RELOAD)
CONTAINER_SCALARS: Final = (Scalar.ENTRYPOINT, Scalar.CMD)


@dataclass(frozen=True, kw_only=True)
class Sourced:
    """A value as written, and where. `literal` values are not `${}`-expanded: they come
    from a rendered YAML document, whose values were expanded already."""

    text: str
    at: Location
    literal: bool = False


@dataclass(frozen=True, kw_only=True)
class EnvEntry:
    key: str
    value: Secret
    at: Location
    literal: bool = False


@dataclass(frozen=True, kw_only=True)
class PublishEntry:
    address: str
    host: str
    container: str
    at: Location
    literal: bool = False


@dataclass(frozen=True, kw_only=True)
class VolumeEntry:
    source: str
    destination: str
    at: Location
    literal: bool = False


@dataclass(frozen=True, kw_only=True)
class Word:
    """One name of a REQUIRES or AFTER line, or one ENV_FILE path."""

    text: str
    at: Location
    literal: bool = False


T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class RawList(Generic[T]):
    """Entries of one list directive; `cleared` says a CLEAR emptied what came before."""

    items: tuple[T, ...] = ()
    cleared: bool = False


@dataclass(frozen=True, kw_only=True)
class ModeDirective:
    """A use of a container-only or host-only directive, remembered for C2/C3."""

    directive: str
    at: Location


@dataclass(frozen=True, kw_only=True)
class RawService:
    name: str
    at: Location
    from_: Sourced | None = None
    run: Sourced | None = None
    scalars: MappingProxyType[Scalar, Sourced] = field(default_factory=lambda: MappingProxyType({}))
    env: RawList[EnvEntry] = RawList()
    env_files: RawList[Word] = RawList()
    publish: RawList[PublishEntry] = RawList()
    volumes: RawList[VolumeEntry] = RawList()
    requires: RawList[Word] = RawList()
    after: RawList[Word] = RawList()
    container_uses: tuple[ModeDirective, ...] = ()
    host_uses: tuple[ModeDirective, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RawArg:
    name: str
    default: str
    at: Location


@dataclass(frozen=True, kw_only=True)
class RawFile:
    """One parsed file, or several merged: ARG defaults (last wins) and services."""

    args: MappingProxyType[str, RawArg] = field(default_factory=lambda: MappingProxyType({}))
    services: tuple[RawService, ...] = ()
