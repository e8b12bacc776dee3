"""`reconciler completion bash|zsh|fish`: a completion script made from the parser
itself (`tree`), so every shell knows every command, option and choice there is."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Final, TextIO

from reconciler.cli import options
from reconciler.cli.completion import bash, fish, zsh
from reconciler.cli.completion.tree import Command, command_tree

SHELLS: Final[dict[str, Callable[[Command], str]]] = {
    "bash": bash.script,
    "zsh": zsh.script,
    "fish": fish.script,
}


def add_command(
    commands: options.Subparsers[argparse.ArgumentParser], root: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "completion",
        help="print a shell completion script",
        description=(
            "Print a completion script for bash (source <(reconciler completion bash)), "
            "zsh (source <(reconciler completion zsh), after compinit) or fish "
            "(reconciler completion fish | source)."
        ),
    )
    parser.add_argument("shell", choices=tuple(SHELLS))
    parser.set_defaults(command=lambda args, out: _print(root, args.shell, out))


def _print(root: argparse.ArgumentParser, shell: str, out: TextIO) -> int:
    out.write(SHELLS[shell](command_tree(root)))
    return 0
