"""The command line: argument parsing, output formats and exit codes, nothing more.

Every command is a small function from parsed arguments to an exit code. Errors of the
project's hierarchy become one line each on stderr (an invalid Orchfile: one line per
diagnostic, as `FILE:LINE: message`) and the error's exit code; anything else is a bug,
reported in one line unless `--debug` asks for the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, TextIO

from reconciler import __version__
from reconciler.errors import InvalidOrchfile, ReconcilerError, UsageError
from reconciler.model.desired import DesiredStack, ProjectName
from reconciler.orchfile.document import Document
from reconciler.orchfile.loader import load
from reconciler.orchfile.render import to_json
from reconciler.orchfile.semantic import (
    ProjectContext,
    default_project_name,
    desired_stack,
    environment_port_offset,
    project_name_error,
)
from reconciler.orchfile.yaml_form import to_yaml
from reconciler.settings import resolve_settings

DEFAULT_FILE: Final = "Orchfile"
EXIT_INTERNAL: Final = 70

Command = Callable[[argparse.Namespace, TextIO], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command | None = getattr(args, "command", None)
    if command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return command(args, sys.stdout)
    except InvalidOrchfile as invalid:
        for diagnostic in invalid.diagnostics:
            print(diagnostic, file=sys.stderr)
        return invalid.exit_code
    except ReconcilerError as error:
        print(f"error: {error}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: one line, the traceback only on request
        print(f"internal error: {type(error).__name__}: {error}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        else:
            print("(run again with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reconciler",
        description=(
            "A declarative reconciler for containerd: keeps containerd's containers and "
            "tasks matching the services an Orchfile describes."
        ),
    )
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="print tracebacks with errors (for bug reports)"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_render(commands)
    _add_validate(commands)
    return parser


def _desired_state_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="Orchfiles to merge left to right (default: ./Orchfile)",
    )
    parser.add_argument(
        "-f",
        "--file",
        action="append",
        default=[],
        dest="file_options",
        metavar="FILE",
        help="an Orchfile or overlay (repeatable; same as a positional FILE)",
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


def _project_options(parser: argparse.ArgumentParser) -> None:
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
        help="logs, locks, named volumes (default: $RECONCILER_STATE_DIR, "
        "/var/lib/reconciler as root, else $XDG_STATE_HOME/reconciler)",
    )


def _add_render(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "render",
        help="print the resolved desired state",
        description=(
            "Merge the files, expand ARGs and print the resolved desired state: JSON exactly "
            "as the reference `orch parse` prints it, or the same model as YAML. "
            "Exit 0 when valid, 1 with one `FILE:LINE: message` line per error."
        ),
    )
    _desired_state_options(parser)
    parser.add_argument(
        "-o", "--output", choices=("json", "yaml"), default="json", help="output format"
    )
    parser.set_defaults(command=_render)


def _add_validate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "validate",
        help="check Orchfiles",
        description=(
            "Check the files as `render` would, and also every value the runtime will "
            "interpret (durations, sizes, CPUS, paths, names), and print nothing but "
            "errors, one `FILE:LINE: message` line each. Exit 0 when valid, 1 otherwise."
        ),
    )
    _desired_state_options(parser)
    _project_options(parser)
    parser.set_defaults(command=_validate)


def _files(args: argparse.Namespace) -> list[str]:
    files = [*args.files, *args.file_options]
    return files or [DEFAULT_FILE]


def _cli_args(args: argparse.Namespace) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in args.arg:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UsageError(f"--arg takes NAME=VALUE, got '{item}'")
        overrides[name] = value
    return overrides


def _load(args: argparse.Namespace) -> Document:
    return load(_files(args), _cli_args(args), os.environ)


def _project_context(args: argparse.Namespace) -> ProjectContext:
    files = [Path(f).absolute() for f in _files(args)]
    settings = resolve_settings(
        namespace=args.namespace, state_dir=args.state_dir, address=None, environ=os.environ
    )
    project = ProjectName(args.project) if args.project else default_project_name(files[0])
    if (problem := project_name_error(project)) is not None:
        raise UsageError(problem)
    return ProjectContext(
        project=project,
        namespace=settings.namespace,
        project_dir=files[0].parent,
        state_root=settings.state_dir,
        files=tuple(files),
        port_offset=environment_port_offset(os.environ),
    )


def _desired(args: argparse.Namespace) -> DesiredStack:
    return desired_stack(_load(args), _project_context(args))


def _render(args: argparse.Namespace, out: TextIO) -> int:
    document = _load(args)
    text = to_json(document) + "\n" if args.output == "json" else to_yaml(document)
    out.write(text)
    return 0


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    _desired(args)
    return 0
