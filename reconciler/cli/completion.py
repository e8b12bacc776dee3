"""`reconciler completion bash`: a bash completion script made from the parser itself,
so it always knows every command and option there is."""

from __future__ import annotations

import argparse
from typing import TextIO

from reconciler.cli import options

_SCRIPT = """\
# bash completion for reconciler; load with: source <(reconciler completion bash)
_reconciler() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} command=${{COMP_WORDS[1]}}
    local commands="{commands}"
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$commands --help --version --debug" -- "$cur"))
        return
    fi
    case "$command" in
{cases}
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
complete -o filenames -F _reconciler reconciler
"""


def add_command(
    commands: options.Subparsers[argparse.ArgumentParser], root: argparse.ArgumentParser
) -> None:
    parser = commands.add_parser(
        "completion",
        help="print a shell completion script",
        description="Print a bash completion script: source <(reconciler completion bash)",
    )
    parser.add_argument("shell", choices=("bash",))
    parser.set_defaults(command=lambda args, out: _print(root, out))


def _print(root: argparse.ArgumentParser, out: TextIO) -> int:
    subparsers = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    cases = []
    for name, parser in sorted(subparsers.choices.items()):
        flags = sorted(
            flag
            for action in parser._actions
            if action.help != argparse.SUPPRESS
            for flag in action.option_strings
        )
        cases.append(f'        {name}) local opts="{" ".join(flags)}" ;;')
    out.write(_SCRIPT.format(commands=" ".join(sorted(subparsers.choices)), cases="\n".join(cases)))
    return 0
