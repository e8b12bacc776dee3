"""The resolved Orch document: what `orch parse` prints, as frozen typed values.

This is the language's own result, after overlays are merged, ARGs expanded and
constraints checked, but before the reconciler interprets anything: durations, sizes
and percentages are still the strings the user wrote (the reference keeps them so), and
built-in variables such as ``${ORCH_PROJECT}`` are still unexpanded. The semantic layer
(`reconciler.orchfile.semantic`) turns it into the desired state the runtime acts on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from reconciler.errors import Location
from reconciler.model.secret import Secret

SPEC_VERSION: Final = "1.0.0-rc"


class Mode(enum.Enum):
    CONTAINER = "container"
    HOST = "host"


class RestartPolicy(enum.Enum):
    NO = "no"
    ALWAYS = "always"
    ON_FAILURE = "on_failure"


class RecreatePolicy(enum.Enum):
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True, kw_only=True)
class PortMapping:
    host: int
    container: int
    address: str | None = None


@dataclass(frozen=True, kw_only=True)
class VolumeMount:
    source: str
    destination: str
    is_named: bool


@dataclass(frozen=True, kw_only=True)
class Restart:
    policy: RestartPolicy = RestartPolicy.NO
    delay: str | None = None
    start_limit_burst: int | None = None
    start_limit_interval: str | None = None


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    start: str | None = None
    stop: str | None = None


@dataclass(frozen=True, kw_only=True)
class Resources:
    memory: str | None = None
    cpus: float | None = None
    cpu_quota: str | None = None
    limit_nofile: int | None = None
    limit_nproc: int | None = None
    tasks_max: int | None = None
    io_weight: int | None = None


@dataclass(frozen=True, kw_only=True)
class Logging:
    stdout: str | None = None
    stderr: str | None = None


def _frozen_env() -> MappingProxyType[str, Secret]:
    return MappingProxyType({})


def _frozen_args() -> MappingProxyType[str, str]:
    return MappingProxyType({})


def _no_locations() -> MappingProxyType[str, tuple[Location, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class Service:
    """One service of the resolved document, fields in the reference's JSON order.

    ENV values are `Secret`s: a repr of the document never shows them. `locations`
    (not part of the JSON) maps a directive name to where each of its values was written
    (one entry per list item, in order), so later stages can still name file and line.
    """

    name: str
    mode: Mode
    image: str | None = None
    run_command: str | None = None
    entrypoint: str | None = None
    cmd: str | None = None
    publish: tuple[PortMapping, ...] = ()
    volumes: tuple[VolumeMount, ...] = ()
    user: str | None = None
    stop_command: str | None = None
    reload_command: str | None = None
    workdir: str | None = None
    env: MappingProxyType[str, Secret] = field(default_factory=_frozen_env)
    env_files: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    healthcheck: str | None = None
    readiness_timeout: str | None = None
    oneshot: bool = False
    disabled: bool = False
    recreate: RecreatePolicy = RecreatePolicy.NEVER
    restart: Restart = field(default_factory=Restart)
    timeouts: Timeouts = field(default_factory=Timeouts)
    resources: Resources = field(default_factory=Resources)
    logging: Logging = field(default_factory=Logging)
    locations: MappingProxyType[str, tuple[Location, ...]] = field(
        default_factory=_no_locations, compare=False, repr=False
    )

    def location(self, directive: str, index: int = -1) -> Location | None:
        """Where `directive` (its `index`-th value for lists) was written, if known."""
        places = self.locations.get(directive, ())
        try:
            return places[index]
        except IndexError:
            return self.locations.get("SERVICE", (None,))[0]


@dataclass(frozen=True, kw_only=True)
class Document:
    """The whole resolved stack: spec version, merged ARGs and services in file order."""

    version: str = SPEC_VERSION
    args: MappingProxyType[str, str] = field(default_factory=_frozen_args)
    services: tuple[Service, ...] = ()

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)
