"""Reading a project's desired state from its files, with nothing of the runtime.

Why this exists: every command starts by naming its files, arguments and project, and
most (`render`, `validate`, `export`, `logs`) need nothing else: no gRPC, no drivers, no
engine. Keeping this apart from `app.project` (which opens the runtime) lets those
commands load only the language.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.app.preflight import checked
from reconciler.errors import UsageError
from reconciler.model.desired import DesiredStack, ProjectName
from reconciler.model.log_limits import LogLimits
from reconciler.model.network_mode import NetworkMode
from reconciler.orchfile.loader import load
from reconciler.orchfile.semantic import (
    ProjectContext,
    default_project_name,
    desired_stack,
    environment_port_offset,
    project_name_error,
)
from reconciler.settings import Settings

log = logging.getLogger("reconciler")


@dataclass(frozen=True, kw_only=True)
class ProjectOptions:
    files: Sequence[str]
    cli_args: Mapping[str, str]
    project: str | None
    settings: Settings


@dataclass(frozen=True, kw_only=True)
class SourceIdentity:
    """What names a desired state: its files (absolute), ARG overrides and network mode,
    and the log limits stated with them (None: not stated). An `apply` through `run`
    must name the same ones `run` watches (log limits only when it states some)."""

    files: tuple[str, ...]
    args: Mapping[str, str]
    network: NetworkMode = NetworkMode.BRIDGE
    log_limits: LogLimits | None = None


def source_identity(options: ProjectOptions) -> SourceIdentity:
    return SourceIdentity(
        files=tuple(str(Path(f).absolute()) for f in options.files),
        args=dict(options.cli_args),
        network=options.settings.network,
        log_limits=options.settings.stated_log_limits,
    )


def project_context(options: ProjectOptions) -> ProjectContext:
    files = [Path(f).absolute() for f in options.files]
    name = ProjectName(options.project) if options.project else default_project_name(files[0])
    if (problem := project_name_error(name)) is not None:
        raise UsageError(problem)
    return ProjectContext(
        project=name,
        namespace=options.settings.namespace,
        project_dir=files[0].parent,
        state_root=options.settings.state_dir,
        files=tuple(files),
        port_offset=environment_port_offset(os.environ),
        network=options.settings.network,
    )


def read_desired(options: ProjectOptions) -> DesiredStack:
    """The desired state as the files say it, whatever this host offers (`export`)."""
    document = load(list(options.files), options.cli_args, os.environ)
    return desired_stack(document, project_context(options))


def load_desired(options: ProjectOptions) -> DesiredStack:
    """The desired state of the files, checked against this host (`preflight`): every
    error at once as `InvalidOrchfile`; warnings are logged."""
    desired = read_desired(options)
    for warning in checked(desired):
        log.warning("%s", warning)
    return desired
