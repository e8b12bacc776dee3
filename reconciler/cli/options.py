"""Options shared by commands, and turning them into settings and project options.

Every command's parser is built on every run (for `--help`, `--version` and completion),
so this imports only what naming the options takes; `app.loading` (the language and the
host checks) is loaded by the commands that read a project.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Final

from reconciler.errors import UsageError
from reconciler.model.network_mode import NetworkMode
from reconciler.settings import Settings, resolve_settings

if TYPE_CHECKING:
    from reconciler.app.loading import ProjectOptions

DEFAULT_FILE: Final = "Orchfile"
Subparsers = argparse._SubParsersAction


def desired_state_options(
    parser: argparse.ArgumentParser, *, positional: bool = True, short_file: bool = True
) -> None:
    if positional:
        parser.add_argument(
            "files",
            nargs="*",
            metavar="FILE",
            help="Orchfiles to merge left to right (default: ./Orchfile)",
        )
    parser.add_argument(
        *(("-f", "--file") if short_file else ("--file",)),
        action="append",
        default=[],
        dest="file_options",
        metavar="FILE",
        help="an Orchfile or overlay, merged left to right (repeatable; default ./Orchfile)",
    )
    parser.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an ARG (repeatable; wins over ORCH_ARG_NAME and the file default)",
    )
    parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )


def project_options(parser: argparse.ArgumentParser, *, runtime: bool = True) -> None:
    """--project, --namespace, --state-dir and --network; with `runtime`, --address."""
    parser.add_argument(
        "--project", help="project name (default: the first file's folder name, sanitized)"
    )
    parser.add_argument(
        "-n",
        "--namespace",
        help="containerd namespace (default: $RECONCILER_NAMESPACE or 'orch')",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="logs, locks, named volumes, the embedded containerd (default: "
        "$RECONCILER_STATE_DIR, /var/lib/reconciler as root, else "
        "$XDG_STATE_HOME/reconciler)",
    )
    parser.add_argument(
        "--network",
        choices=[mode.value for mode in NetworkMode],
        help="where containers are on the network: each on the project's own bridge, "
        "reachable by service name (bridge), or in the host's (host) (default: "
        "$RECONCILER_NETWORK, else bridge)",
    )
    if runtime:
        parser.add_argument(
            "--address",
            help="containerd socket (default: $CONTAINERD_ADDRESS, else the system socket "
            "if it answers, else the embedded containerd under the state dir)",
        )


def files(args: argparse.Namespace) -> list[str]:
    given = [*getattr(args, "files", []), *args.file_options]
    return given or [DEFAULT_FILE]


def cli_args(args: argparse.Namespace) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in args.arg:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UsageError(f"--arg takes NAME=VALUE, got '{item}'")
        overrides[name] = value
    return overrides


def settings(args: argparse.Namespace) -> Settings:
    return resolve_settings(
        namespace=args.namespace,
        state_dir=args.state_dir,
        address=getattr(args, "address", None),
        environ=os.environ,
        network=getattr(args, "network", None),
    )


def project(args: argparse.Namespace) -> ProjectOptions:
    from reconciler.app.loading import ProjectOptions

    return ProjectOptions(
        files=files(args), cli_args=cli_args(args), project=args.project, settings=settings(args)
    )
