"""From the Orch document to the desired state: interpret what the reference keeps as text.

The reference parser stops at strings; the runtime needs numbers, paths and choices.
This module parses durations, sizes, percentages and CPUS, applies the Orch spec's
defaults, expands the built-in variables (`${ORCH_PROJECT}`, `${ORCH_DATA}`,
`${ORCH_STATE_DIR}`, `${ORCH_CONTAINERS_DIR}`, `${SERVICE_NAME}`, `${PORT_OFFSET}`,
`${CONTAINER_PREFIX}`; any other `${name}` is left alone, it may be meant for a shell),
and resolves relative paths against the project folder. Every unusable value is a
located error naming the service and directive; all of them are reported at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final, TypeVar
from urllib.parse import urlsplit

from reconciler.errors import Diagnostic, InvalidOrchfile, Location
from reconciler.model.desired import (
    DEFAULT_READINESS_TIMEOUT,
    DEFAULT_TIMEOUT_START,
    DEFAULT_TIMEOUT_STOP,
    BindMount,
    CommandCheck,
    DesiredService,
    DesiredStack,
    HealthCheck,
    HttpCheck,
    ImageSource,
    LocalImage,
    NamedVolume,
    ProjectName,
    ProjectPaths,
    PublishedPort,
    RegistryImage,
    ResourceLimits,
    Restart,
    RestartSpec,
    ServiceMode,
    ServiceName,
    TcpCheck,
    Volume,
    project_state_dir,
)
from reconciler.model.limits import MAX_CPUS, MAX_MEMORY, MAX_RLIMIT, MAX_TASKS, MIN_MEMORY
from reconciler.model.network_mode import NetworkMode
from reconciler.model.secret import Secret
from reconciler.model.units import (
    UnitError,
    check_cpus,
    format_size,
    parse_duration,
    parse_percent,
    parse_size,
)
from reconciler.orchfile import words
from reconciler.orchfile.document import Document, Mode, RecreatePolicy, RestartPolicy, Service
from reconciler.orchfile.expand import expand

LOCAL_IMAGE_PREFIXES: Final = ("/", "./", "../")
# containerd identifiers: alphanumeric runs joined by single '.', '_' or '-', at most 76.
_CONTAINERD_ID: Final = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")
MAX_CONTAINERD_ID: Final = 76
_VOLUME_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# `scheme://` at the start: a URL check (a command never starts that way).
_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_RESTART: Final = {
    RestartPolicy.NO: Restart.NO,
    RestartPolicy.ON_FAILURE: Restart.ON_FAILURE,
    RestartPolicy.ALWAYS: Restart.ALWAYS,
}
_T = TypeVar("_T")


@dataclass(frozen=True, kw_only=True)
class ProjectContext:
    """What the desired state depends on beyond the files: names and where things live."""

    project: ProjectName
    namespace: str
    project_dir: Path
    state_root: Path
    files: tuple[Path, ...]
    port_offset: str = "0"
    network: NetworkMode = NetworkMode.BRIDGE

    @property
    def paths(self) -> ProjectPaths:
        state_dir = project_state_dir(self.state_root, self.namespace, self.project)
        return ProjectPaths(project_dir=self.project_dir, state_dir=state_dir)


def default_project_name(first_file: Path) -> ProjectName:
    """The first file's folder name, lowercased, other characters turned into `-`.

    Runs of `-` are collapsed and `-` trimmed at both ends so that `<project>-<service>`
    is a valid containerd identifier (which allows no `--` and no leading `-`).
    """
    folder = first_file.resolve().parent.name.lower()
    name = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", folder)).strip("-")
    return ProjectName(name or "default")


def project_name_error(name: str) -> str | None:
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", name):
        return f"project name '{name}' must be lowercase letters and digits, joined by single '-'"
    return None


def desired_stack(document: Document, context: ProjectContext) -> DesiredStack:
    errors: list[Diagnostic] = []
    services = []
    for service in document.services:
        interpreter = _ServiceInterpreter(service, context)
        services.append(interpreter.interpret())
        errors.extend(interpreter.errors)
    if errors:
        raise InvalidOrchfile(_in_file_order(errors))
    return DesiredStack(
        project=context.project,
        namespace=context.namespace,
        files=context.files,
        paths=context.paths,
        services=tuple(services),
        network=context.network,
    )


def _in_file_order(errors: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted by line within each file, files in the order they first appear."""
    files: dict[str, int] = {}
    for error in errors:
        files.setdefault(error.location.file if error.location else "", len(files))

    def key(error: Diagnostic) -> tuple[int, int]:
        at = error.location
        return (files[at.file], at.line) if at else (files[""], 0)

    return sorted(errors, key=key)


class _ServiceInterpreter:
    def __init__(self, service: Service, context: ProjectContext) -> None:
        self.service = service
        self.context = context
        self.paths = context.paths
        self.errors: list[Diagnostic] = []
        self.builtins = {
            "ORCH_PROJECT": str(context.project_dir),
            "ORCH_DATA": str(self.paths.data),
            "ORCH_STATE_DIR": str(self.paths.state_dir),
            "ORCH_CONTAINERS_DIR": str(self.paths.containers),
            "SERVICE_NAME": service.name,
            "PORT_OFFSET": context.port_offset,
            "CONTAINER_PREFIX": f"{context.project}-",
        }

    def error(self, directive: str, message: str, index: int = -1) -> None:
        at: Location | None = self.service.location(directive, index)
        text = f"service '{self.service.name}': {message}"
        self.errors.append(Diagnostic(location=at, message=text))

    def expand(self, text: str) -> str:
        return expand(text, self.builtins)

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self.expand(text)

    def unit(self, directive: str, text: str | None, parse: Callable[[str], _T], default: _T) -> _T:
        if text is None:
            return default
        value = self.expand(text)
        try:
            return parse(value)
        except UnitError as problem:
            self.error(directive, f"{directive} '{value}' {problem}")
            return default

    def positive(self, directive: str, value: int | None) -> int | None:
        if value is not None and value < 1:
            self.error(directive, f"{directive} must be at least 1, got {value}")
        return value

    def words(self, directive: str, text: str | None) -> tuple[str, ...] | None:
        """Shell words, as a shell would split them (quotes group, nothing expands)."""
        if text is None:
            return None
        try:
            return tuple(words.split(self.expand(text)))
        except ValueError as problem:
            self.error(directive, f"{directive} cannot be split into words: {problem}")
            return ()

    def path(self, text: str) -> Path:
        """A path as written, made absolute against the project folder."""
        return Path(os.path.normpath(self.context.project_dir / self.expand(text)))

    def interpret(self) -> DesiredService:
        service = self.service
        self.check_container_id()
        self.check_bytes()
        mode = ServiceMode.CONTAINER if service.mode is Mode.CONTAINER else ServiceMode.HOST
        stdout = self.path(service.logging.stdout or f"{self.paths.logs}/{service.name}.log")
        stderr = self.path(service.logging.stderr or f"{self.paths.logs}/{service.name}.err")
        return DesiredService(
            name=ServiceName(service.name),
            mode=mode,
            network=self.context.network if mode is ServiceMode.CONTAINER else NetworkMode.HOST,
            image=self.image(),
            command=self.optional(service.run_command),
            entrypoint=self.words("ENTRYPOINT", service.entrypoint),
            cmd=self.words("CMD", service.cmd),
            publish=tuple(
                PublishedPort(host=p.host, container=p.container, address=p.address)
                for p in service.publish
            ),
            volumes=self.volumes(),
            user=self.optional(service.user),
            stop_command=self.optional(service.stop_command),
            reload_command=self.optional(service.reload_command),
            workdir=self.workdir(mode),
            env=MappingProxyType(
                {
                    self.expand(key): Secret(self.expand(value.reveal()))
                    for key, value in service.env.items()
                }
            ),
            env_files=tuple(self.path(f) for f in service.env_files),
            requires=tuple(ServiceName(n) for n in service.requires),
            after=tuple(ServiceName(n) for n in service.after),
            healthcheck=self.healthcheck(),
            readiness_timeout=self.duration(
                "READINESS_TIMEOUT", service.readiness_timeout, DEFAULT_READINESS_TIMEOUT
            ),
            oneshot=service.oneshot,
            disabled=service.disabled,
            recreate_always=service.recreate is RecreatePolicy.ALWAYS,
            restart=self.restart(),
            timeout_start=self.duration(
                "TIMEOUT_START", service.timeouts.start, DEFAULT_TIMEOUT_START
            ),
            timeout_stop=self.duration("TIMEOUT_STOP", service.timeouts.stop, DEFAULT_TIMEOUT_STOP),
            resources=self.resources(),
            stdout=stdout,
            stderr=stderr,
            locations=service.locations,
        )

    def check_container_id(self) -> None:
        container_id = f"{self.context.project}-{self.service.name}"
        if not _CONTAINERD_ID.fullmatch(container_id):
            self.error(
                "SERVICE",
                f"container id '{container_id}' is not a valid containerd identifier "
                "(no '--' and no trailing '-' in the service name)",
            )
        elif len(container_id) > MAX_CONTAINERD_ID:
            self.error(
                "SERVICE",
                f"container id '{container_id}' is longer than containerd's "
                f"{MAX_CONTAINERD_ID} characters; shorten the project or service name",
            )

    def check_bytes(self) -> None:
        """No NUL byte where the kernel passes text as C strings (argv, environment,
        paths): `execve` would cut it there, and runc refuses it. An ENV value is
        named by its key only, never shown."""
        service = self.service
        texts = {
            "RUN": service.run_command,
            "CMD": service.cmd,
            "ENTRYPOINT": service.entrypoint,
            "WORKDIR": service.workdir,
            "USER": service.user,
            "STOP": service.stop_command,
            "RELOAD": service.reload_command,
            "HEALTHCHECK": service.healthcheck,
            "STDOUT": service.logging.stdout,
            "STDERR": service.logging.stderr,
        }
        for directive, text in texts.items():
            if text is not None and "\0" in self.expand(text):
                self.error(
                    directive, f"{directive} contains a NUL byte, which no process can be given"
                )
        for key, value in service.env.items():
            if "\0" in self.expand(key) or "\0" in self.expand(value.reveal()):
                self.error("ENV", f"ENV {key.replace(chr(0), '?')}: contains a NUL byte")
        for index, path in enumerate(service.env_files):
            if "\0" in path:
                self.error("ENV_FILE", "ENV_FILE path contains a NUL byte", index)
        for index, mount in enumerate(service.volumes):
            if "\0" in mount.source or "\0" in mount.destination:
                self.error("VOLUME", "VOLUME contains a NUL byte", index)

    def duration(self, directive: str, text: str | None, default: timedelta) -> timedelta:
        return self.unit(directive, text, parse_duration, default)

    def image(self) -> ImageSource | None:
        if self.service.image is None:
            return None
        reference = self.expand(self.service.image)
        if reference.startswith(LOCAL_IMAGE_PREFIXES):
            return LocalImage(path=self.path(reference), written_as=reference)
        return RegistryImage(reference=reference)

    def workdir(self, mode: ServiceMode) -> str | None:
        text = self.service.workdir
        if text is None:
            # A host command runs where its Orchfile is, as it would from a shell there.
            return str(self.paths.project_dir) if mode is ServiceMode.HOST else None
        if mode is ServiceMode.HOST:
            return str(self.path(text))
        workdir = self.expand(text)
        if not workdir.startswith("/"):
            self.error("WORKDIR", f"WORKDIR '{workdir}' must be an absolute path in a container")
        return workdir

    def volumes(self) -> tuple[Volume, ...]:
        volumes: list[Volume] = []
        for index, mount in enumerate(self.service.volumes):
            destination = self.expand(mount.destination)
            if not destination.startswith("/"):
                message = f"VOLUME destination '{destination}' must be an absolute path"
                self.error("VOLUME", message, index)
            if mount.is_named:
                name = self.expand(mount.source)
                if not _VOLUME_NAME.fullmatch(name):
                    self.error(
                        "VOLUME",
                        f"VOLUME name '{name}' must be letters, digits, '_', '.' or '-' "
                        "(a host path starts with /, ./ or ../)",
                        index,
                    )
                host_path = self.paths.volumes / name
                volumes.append(NamedVolume(name=name, host_path=host_path, destination=destination))
                continue
            source = self.expand(mount.source)
            if not source.startswith(LOCAL_IMAGE_PREFIXES):
                self.error("VOLUME", f"VOLUME source '{source}' does not expand to a path", index)
            volumes.append(BindMount(source=self.path(source), destination=destination))
        return tuple(volumes)

    def healthcheck(self) -> HealthCheck | None:
        """An `http(s)://` URL, a `tcp://host:port`, or a command; another `scheme://`
        is a mistake, not a command (nothing would ever probe it)."""
        text = self.optional(self.service.healthcheck)
        if text is None:
            return None
        scheme = _SCHEME.match(text)
        if scheme is None:
            return CommandCheck(command=text)
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as problem:
            self.error("HEALTHCHECK", f"HEALTHCHECK '{text}' is not a valid URL: {problem}")
            return None
        match scheme.group(1).lower():
            case "http" | "https" if parts.hostname:
                return HttpCheck(url=text)
            case "tcp" if parts.hostname and port and not parts.path.strip("/"):
                return TcpCheck(host=parts.hostname, port=port)
            case "tcp":
                self.error("HEALTHCHECK", f"HEALTHCHECK '{text}' must be tcp://HOST:PORT")
            case "http" | "https":
                self.error("HEALTHCHECK", f"HEALTHCHECK '{text}' names no host")
            case other:
                self.error(
                    "HEALTHCHECK",
                    f"HEALTHCHECK scheme '{other}' is not one the reconciler probes "
                    "(http://, https://, tcp://HOST:PORT, or a command)",
                )
        return None

    def restart(self) -> RestartSpec:
        spec = self.service.restart
        defaults = RestartSpec()
        burst = self.positive("START_LIMIT_BURST", spec.start_limit_burst)
        return RestartSpec(
            policy=_RESTART[spec.policy],
            delay=self.duration("RESTART_DELAY", spec.delay, defaults.delay),
            start_limit_burst=defaults.start_limit_burst if burst is None else burst,
            start_limit_interval=self.duration(
                "START_LIMIT_INTERVAL", spec.start_limit_interval, defaults.start_limit_interval
            ),
        )

    def resources(self) -> ResourceLimits:
        limits = self.service.resources
        memory = self.unit("MEMORY", limits.memory, parse_size, None)
        if memory is not None and not MIN_MEMORY <= memory <= MAX_MEMORY:
            self.error(
                "MEMORY",
                f"MEMORY '{limits.memory}' is out of range: at least {format_size(MIN_MEMORY)}"
                f" (a container's runtime needs that much to start), at most "
                f"{format_size(MAX_MEMORY)}",
            )
            memory = None
        cpus = None
        if limits.cpus is not None:
            try:
                cpus = self.cores("CPUS", check_cpus(limits.cpus), f"{limits.cpus:g}")
            except UnitError as problem:
                self.error("CPUS", f"CPUS '{limits.cpus:g}' {problem}")
        quota = self.unit("CPU_QUOTA", limits.cpu_quota, parse_percent, None)
        if quota is not None and quota <= 0:
            self.error("CPU_QUOTA", f"CPU_QUOTA '{limits.cpu_quota}' must be more than 0%")
            quota = None
        if quota is not None:
            quota = self.cores("CPU_QUOTA", quota, str(limits.cpu_quota))
        choices = [c for c in (cpus, quota) if c is not None and c > 0]
        return ResourceLimits(
            memory_bytes=memory,
            cpus=min(choices) if choices else None,
            limit_nofile=self.bounded("LIMIT_NOFILE", limits.limit_nofile, MAX_RLIMIT),
            limit_nproc=self.bounded("LIMIT_NPROC", limits.limit_nproc, MAX_RLIMIT),
            tasks_max=self.bounded("TASKS_MAX", limits.tasks_max, MAX_TASKS),
            io_weight=ResourceLimits().io_weight if limits.io_weight is None else limits.io_weight,
        )

    def cores(self, directive: str, value: float, written: str) -> float | None:
        """`value` cores if the kernel can give them (quota within its range)."""
        if value > MAX_CPUS:
            self.error(
                directive,
                f"{directive} '{written}' is more than the kernel's CPU quota allows "
                f"({MAX_CPUS:.0f} cores)",
            )
            return None
        return value

    def bounded(self, directive: str, value: int | None, most: int) -> int | None:
        if self.positive(directive, value) is None or value is None or value < 1:
            return value
        if value > most:
            self.error(directive, f"{directive} must be at most {most}, got {value}")
            return None
        return value


def environment_port_offset(environ: Mapping[str, str]) -> str:
    """`${PORT_OFFSET}` for parallel environments: `ORCH_PORT_OFFSET`, else 0."""
    return environ.get("ORCH_PORT_OFFSET", "0")
