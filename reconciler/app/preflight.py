"""What the host must offer a desired state, checked before anything runs.

Why this exists: `validate`, `plan`, `apply` and `run` must agree. The language layer
checks what the files say; some mistakes only show against the host: an ENV_FILE that is
missing, unreadable or malformed, a local FROM that is no OCI image, a bind-mount source
that does not exist, a USER the host does not know, a LIMIT_NOFILE above the kernel's
cap, a PUBLISH the chosen network cannot honour (`model.publish`). Every command reads the
desired state through this, so all of them report the same `FILE:LINE: service 'x': ...` errors, all
at once, before touching the runtime. What runs but may surprise (more CPUS than the
host has) is a warning.
"""

from __future__ import annotations

import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.drivers.host.environment import resolve_user
from reconciler.errors import Diagnostic, InvalidOrchfile, ServiceConfigError
from reconciler.model.desired import (
    BindMount,
    DesiredService,
    DesiredStack,
    LocalImage,
    ServiceMode,
)
from reconciler.model.limits import DEFAULT_NR_OPEN
from reconciler.model.publish import stack_problems
from reconciler.orchfile.envfile import parse_env_file

NR_OPEN: Final = Path("/proc/sys/fs/nr_open")
OCI_LAYOUT_FILES: Final = ("oci-layout", "index.json")


@dataclass(frozen=True, kw_only=True)
class Findings:
    errors: tuple[Diagnostic, ...]
    warnings: tuple[Diagnostic, ...]


@dataclass(frozen=True, kw_only=True)
class Host:
    """What this host offers, read once per check."""

    cores: int
    nr_open: int
    euid: int

    @classmethod
    def here(cls) -> Host:
        try:
            nr_open = int(NR_OPEN.read_text())
        except (OSError, ValueError):
            nr_open = DEFAULT_NR_OPEN
        return cls(cores=os.cpu_count() or 1, nr_open=nr_open, euid=os.geteuid())


def preflight(desired: DesiredStack, host: Host | None = None) -> Findings:
    """Every host-dependent problem of `desired`, in file order."""
    checker = _Checker(host or Host.here())
    for service in desired.services:
        checker.service(service)
    for problem in stack_problems(desired):
        publisher = desired.service(problem.service)
        if publisher is not None and not publisher.disabled:
            checker.error(publisher, "PUBLISH", problem.message, problem.index)
    return Findings(
        errors=_in_file_order(checker.errors), warnings=_in_file_order(checker.warnings)
    )


def checked(desired: DesiredStack, host: Host | None = None) -> tuple[Diagnostic, ...]:
    """`desired`'s warnings; its errors raise `InvalidOrchfile`."""
    findings = preflight(desired, host)
    if findings.errors:
        raise InvalidOrchfile(findings.errors)
    return findings.warnings


def _in_file_order(found: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    """By line within each file, files in the order they first appear (services are
    checked in file order, so that is the order of the files)."""
    files: dict[str, int] = {}
    for diagnostic in found:
        files.setdefault(diagnostic.location.file if diagnostic.location else "", len(files))

    def place(diagnostic: Diagnostic) -> tuple[int, int]:
        at = diagnostic.location
        return (files[at.file], at.line) if at else (files[""], 0)

    return tuple(sorted(found, key=place))


class _Checker:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []

    def error(self, service: DesiredService, directive: str, text: str, index: int = -1) -> None:
        location = service.location(directive, index)
        message = f"service '{service.name}': {text}"
        self.errors.append(Diagnostic(location=location, message=message))

    def warn(self, service: DesiredService, directive: str, text: str) -> None:
        location = service.location(directive)
        message = f"warning: service '{service.name}': {text}"
        self.warnings.append(Diagnostic(location=location, message=message))

    def service(self, service: DesiredService) -> None:
        if service.disabled:
            return
        self.env_files(service)
        limits = service.resources
        if limits.cpus is not None and limits.cpus > self.host.cores:
            self.warn(
                service,
                "CPUS",
                f"CPUS {limits.cpus:g} is more than this host's {self.host.cores} cores; "
                "the limit will never be reached",
            )
        if limits.limit_nofile is not None and limits.limit_nofile > self.host.nr_open:
            self.error(
                service,
                "LIMIT_NOFILE",
                f"LIMIT_NOFILE {limits.limit_nofile} is above this host's cap of "
                f"{self.host.nr_open} ({NR_OPEN})",
            )
        if service.mode is ServiceMode.CONTAINER:
            self.container(service)
        else:
            self.host_service(service)

    def env_files(self, service: DesiredService) -> None:
        for index, path in enumerate(service.env_files):
            problem = _env_file_problem(path)
            if problem is not None:
                self.error(service, "ENV_FILE", f"ENV_FILE {path}: {problem}", index)

    def container(self, service: DesiredService) -> None:
        if isinstance(service.image, LocalImage):
            problem = _image_problem(service.image.path)
            if problem is not None:
                self.error(service, "FROM", f"FROM {service.image.written_as}: {problem}")
        for index, volume in enumerate(service.volumes):
            if isinstance(volume, BindMount) and not os.path.exists(volume.source):
                self.error(
                    service,
                    "VOLUME",
                    f"VOLUME source {volume.source} does not exist (a bind mount needs it)",
                    index,
                )

    def host_service(self, service: DesiredService) -> None:
        if service.user is None:
            return
        try:
            resolve_user(service.name, service.user, euid=self.host.euid)
        except ServiceConfigError as problem:
            text = str(problem).removeprefix(f"service '{service.name}': ")
            self.error(service, "USER", text)


def _env_file_problem(path: Path) -> str | None:
    """Why the ENV_FILE cannot be used, or None. Its lines are named, never shown."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file"
        text = path.read_text(errors="strict")
    except OSError as error:
        return (error.strerror or str(error)).lower()
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    try:
        parse_env_file(text, str(path))
    except InvalidOrchfile as invalid:
        return "; ".join(str(d) for d in invalid.diagnostics)
    return None


def _image_problem(path: Path) -> str | None:
    """Why a local FROM is not an OCI image layout folder or archive, or None."""
    if path.is_dir():
        missing = [name for name in OCI_LAYOUT_FILES if not (path / name).is_file()]
        if missing:
            return f"is a folder but not an OCI image layout (no {', '.join(missing)})"
        return None
    if not path.exists():
        return "no such file or folder"
    try:
        with tarfile.open(path) as archive:
            names = {name.removeprefix("./") for name in archive.getnames()}
    except (tarfile.TarError, OSError):
        return "is neither an OCI image layout folder nor an OCI archive"
    if "index.json" not in names:
        return "is an archive without index.json: not an OCI image"
    return None
