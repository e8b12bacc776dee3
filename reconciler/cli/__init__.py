"""The command line: argument parsing, output formats and exit codes, nothing more.

Every command is a small function from parsed arguments to an exit code. Errors of the
project's hierarchy become one line each on stderr (an invalid Orchfile: one line per
diagnostic, as `FILE:LINE: message`) and the error's exit code; so does the host refusing
a file operation (a full disk, too many open files, a read-only state dir: `oserrors`),
with exit 1; anything else is a bug, reported in one line unless `--debug` asks for the
traceback (exit 70).

Every run builds the parser of every command (`--help`, `--version` and completion need
them all), so a command module imports at its top only what naming its options takes,
and what its command does inside the handler: `--version`, `render` and `validate` load
no gRPC, engine or rich (`tests/unit/test_lazy_imports.py` holds them to it).
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Final, TextIO

from reconciler import __version__
from reconciler.cli import completion, converge, export, language, leak_check, logs, observe
from reconciler.errors import InvalidOrchfile, ReconcilerError
from reconciler.oserrors import host_error

EXIT_INTERNAL: Final = 70

Command = Callable[[argparse.Namespace, TextIO], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command | None = getattr(args, "command", None)
    if command is None:
        parser.print_help(sys.stderr)
        return 2
    _log_to_stderr(debug=args.debug)
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
    except OSError as error:
        # The host refusing a file operation (a full disk, a read-only state dir) is the
        # user's to fix, not a bug: said in one line, naming the path.
        refused = host_error(error)
        if refused is None:
            return _internal_error(error, debug=args.debug)
        print(f"error: {refused}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return refused.exit_code
    except Exception as error:  # a bug: one line, the traceback only on request
        return _internal_error(error, debug=args.debug)


def _internal_error(error: Exception, *, debug: bool) -> int:
    print(f"internal error: {type(error).__name__}: {error}", file=sys.stderr)
    if debug:
        traceback.print_exc()
    else:
        print("(run again with --debug for the traceback)", file=sys.stderr)
    return EXIT_INTERNAL


def _log_to_stderr(*, debug: bool) -> None:
    """The engine's log lines (`recreate web: config changed (ENV A)`) on stderr; set up
    per call, so a caller that swapped `sys.stderr` (tests, embedding) gets them."""
    logger = logging.getLogger("reconciler")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.propagate = False


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """Built once per process: parsing leaves a parser unchanged, and building one costs
    more than most commands (embedders and tests call `main` thousands of times)."""
    return build_parser()


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
    converge.add_commands(commands)
    observe.add_commands(commands)
    logs.add_commands(commands)
    leak_check.add_commands(commands)
    language.add_commands(commands)
    export.add_commands(commands)
    completion.add_command(commands, parser)
    return parser
