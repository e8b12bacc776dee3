"""The desired state the runtime acts on: every value typed, defaulted and resolved.

Built from the Orch document by `reconciler.orchfile.semantic`. Nothing here is
optional unless absence means something (no healthcheck, no memory limit): defaults
from the Orch spec are applied, built-in variables expanded and relative paths made
absolute, so controllers and drivers never interpret user text again.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final, NewType

from reconciler.errors import Location
from reconciler.model.network_mode import NetworkMode
from reconciler.model.secret import Secret

ServiceName = NewType("ServiceName", str)
ProjectName = NewType("ProjectName", str)

DEFAULT_READINESS_TIMEOUT: Final = timedelta(seconds=90)
DEFAULT_RESTART_DELAY: Final = timedelta(seconds=1)
DEFAULT_START_LIMIT_BURST: Final = 5
DEFAULT_START_LIMIT_INTERVAL: Final = timedelta(seconds=10)
DEFAULT_TIMEOUT_START: Final = timedelta(seconds=90)
DEFAULT_TIMEOUT_STOP: Final = timedelta(seconds=10)
DEFAULT_IO_WEIGHT: Final = 100


class ServiceMode(enum.Enum):
    CONTAINER = "container"
    HOST = "host"


class Restart(enum.Enum):
    NO = "no"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"


@dataclass(frozen=True, kw_only=True)
class RegistryImage:
    """An image pulled from a registry, by tag or digest (`localhost:5000/web:1`)."""

    reference: str


@dataclass(frozen=True, kw_only=True)
class LocalImage:
    """An OCI image layout folder or OCI archive on the host, imported (`FROM ./img`)."""

    path: Path
    written_as: str


ImageSource = RegistryImage | LocalImage


def image_text(image: ImageSource | None) -> str | None:
    """The image as the user wrote it: a reference, or a local path as written."""
    match image:
        case RegistryImage(reference=reference):
            return reference
        case LocalImage(written_as=written_as):
            return written_as
        case None:
            return None


@dataclass(frozen=True, kw_only=True)
class PublishedPort:
    host: int
    container: int
    address: str | None = None


@dataclass(frozen=True, kw_only=True)
class BindMount:
    """A host path mounted into the container."""

    source: Path
    destination: str


@dataclass(frozen=True, kw_only=True)
class NamedVolume:
    """A volume the reconciler creates under the state dir and keeps across recreates."""

    name: str
    host_path: Path
    destination: str


Volume = BindMount | NamedVolume


@dataclass(frozen=True, kw_only=True)
class HttpCheck:
    url: str


@dataclass(frozen=True, kw_only=True)
class TcpCheck:
    """`tcp://host:port`: healthy when a connection opens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


@dataclass(frozen=True, kw_only=True)
class CommandCheck:
    command: str


HealthCheck = HttpCheck | TcpCheck | CommandCheck


@dataclass(frozen=True, kw_only=True)
class RestartSpec:
    policy: Restart = Restart.NO
    delay: timedelta = DEFAULT_RESTART_DELAY
    start_limit_burst: int = DEFAULT_START_LIMIT_BURST
    start_limit_interval: timedelta = DEFAULT_START_LIMIT_INTERVAL


@dataclass(frozen=True, kw_only=True)
class ResourceLimits:
    """Limits as numbers; `cpus` is the effective limit in cores from CPUS or CPU_QUOTA
    (the smaller when both are given)."""

    memory_bytes: int | None = None
    cpus: float | None = None
    limit_nofile: int | None = None
    limit_nproc: int | None = None
    tasks_max: int | None = None
    io_weight: int = DEFAULT_IO_WEIGHT


def _no_env() -> MappingProxyType[str, Secret]:
    return MappingProxyType({})


def _no_locations() -> Mapping[str, tuple[Location, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class DesiredService:
    name: ServiceName
    mode: ServiceMode
    image: ImageSource | None = None
    command: str | None = None
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    publish: tuple[PublishedPort, ...] = ()
    network: NetworkMode = NetworkMode.BRIDGE
    volumes: tuple[Volume, ...] = ()
    user: str | None = None
    stop_command: str | None = None
    reload_command: str | None = None
    workdir: str | None = None
    env: MappingProxyType[str, Secret] = field(default_factory=_no_env)
    env_files: tuple[Path, ...] = ()
    requires: tuple[ServiceName, ...] = ()
    after: tuple[ServiceName, ...] = ()
    healthcheck: HealthCheck | None = None
    readiness_timeout: timedelta = DEFAULT_READINESS_TIMEOUT
    oneshot: bool = False
    disabled: bool = False
    recreate_always: bool = False
    restart: RestartSpec = field(default_factory=RestartSpec)
    timeout_start: timedelta = DEFAULT_TIMEOUT_START
    timeout_stop: timedelta = DEFAULT_TIMEOUT_STOP
    resources: ResourceLimits = field(default_factory=ResourceLimits)
    stdout: Path
    stderr: Path
    # Where each directive was written (for errors found after parsing); not a value.
    locations: Mapping[str, tuple[Location, ...]] = field(
        default_factory=_no_locations, compare=False, repr=False
    )

    @property
    def on_project_network(self) -> bool:
        """A container in a network namespace of its own, on the project's bridge."""
        return self.mode is ServiceMode.CONTAINER and self.network is NetworkMode.BRIDGE

    def location(self, directive: str, index: int = -1) -> Location | None:
        """Where `directive` (its `index`-th value for lists) was written, if known."""
        places = self.locations.get(directive, ())
        try:
            return places[index]
        except IndexError:
            return self.locations.get("SERVICE", (None,))[0]


# Where a project's host services keep their unit records (`drivers/host/record.py`).
HOST_UNITS_DIR: Final = "host"


def project_state_dir(state_root: Path, namespace: str, project: str) -> Path:
    """`<state root>/projects/<namespace>/<project>`: everything of one project."""
    return state_root / "projects" / namespace / project


def project_state_dirs(state_root: Path) -> list[Path]:
    """The state dir of every project of every namespace under `state_root`."""
    return sorted(path for path in state_root.glob("projects/*/*") if path.is_dir())


@dataclass(frozen=True, kw_only=True)
class ProjectPaths:
    """Where a project's files live under the state dir."""

    project_dir: Path
    state_dir: Path

    @property
    def network(self) -> Path:
        return self.state_dir / "network"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def data(self) -> Path:
        return self.state_dir / "data"

    @property
    def volumes(self) -> Path:
        return self.state_dir / "volumes"

    @property
    def containers(self) -> Path:
        return self.state_dir / "containers"

    @property
    def host_units(self) -> Path:
        return self.state_dir / HOST_UNITS_DIR


@dataclass(frozen=True, kw_only=True)
class DesiredStack:
    project: ProjectName
    namespace: str
    files: tuple[Path, ...]
    paths: ProjectPaths
    services: tuple[DesiredService, ...] = ()
    network: NetworkMode = NetworkMode.BRIDGE

    def service(self, name: str) -> DesiredService | None:
        return next((s for s in self.services if s.name == name), None)
