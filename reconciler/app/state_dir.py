"""The state dir made ready when a command starts, and a project's directories in it.

Why this exists: every command that reads or writes the state dir starts the same way:
what it creates from then on is private (the umask), and a state dir another user could
change is refused before anything in it is trusted (`statedir.check`). A command that
converges then makes its project's directory and checks the ones it will write in, so
a link planted in them (`volumes` pointing elsewhere) is refused, naming it, before any
service is touched.
"""

from __future__ import annotations

import os

from reconciler.model.desired import DesiredStack
from reconciler.settings import Settings, default_state_dir
from reconciler.statedir import umask
from reconciler.statedir.check import check_state_dir
from reconciler.statedir.tree import check_dirs, make_dirs


def open_state_dir(settings: Settings, *, writes: bool) -> None:
    """Before the command uses the state dir: private files from here on; the state dir
    refused if unsafe; with `writes`, made (0700) when missing."""
    umask.make_private()
    default = settings.state_dir == default_state_dir(os.environ, os.geteuid() == 0)
    check_state_dir(settings.state_dir, default=default, create=writes)


def make_project_dirs(desired: DesiredStack, settings: Settings) -> None:
    """The project's directory made (0700) from the state dir down without following a
    link, and those of it that exist already (logs, network, unit records, volumes)
    checked the same way."""
    paths = desired.paths
    make_dirs(paths.state_dir, below=settings.state_dir)
    for directory in (paths.logs, paths.network, paths.host_units, paths.volumes):
        check_dirs(directory, below=settings.state_dir)
