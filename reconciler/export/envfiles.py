"""The export's only input beyond the model: the ENV_FILEs the Orchfile names, read now.

A Secret made from an ENV_FILE holds the file's content at export time, so the export
reads each exported service's files here, with the same reading and errors as the
runtime (`reconciler.orchfile.envfile`: a missing file names the service, a bad line
names the file and line, never its text). Everything else in the export is a pure
function of the model and what this returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.model.desired import DesiredService, ServiceMode, ServiceName
from reconciler.model.secret import Secret
from reconciler.orchfile.envfile import read_env_files

EnvFiles = Mapping[ServiceName, tuple[Mapping[str, Secret], ...]]


def read_exported_env_files(services: Iterable[DesiredService]) -> EnvFiles:
    """Each container service's parsed ENV_FILEs, in order (host services are not
    exported, so theirs are not read)."""
    return {
        service.name: tuple(read_env_files(service))
        for service in services
        if service.mode is ServiceMode.CONTAINER and service.env_files
    }
