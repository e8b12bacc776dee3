"""The command line as a tree for completion scripts: read from the argparse parsers
themselves, so the bash, zsh and fish scripts know every command, option and choice
there is, and can never drift from what the parser accepts.

What a value completes to is read from the parser too: `choices` are offered as they
are, a value whose metavar is `FILE` completes paths and one whose metavar is `DIR`
directories; anything else (a name, a duration) is left to the user.
"""

from __future__ import annotations

import argparse
import enum
import re
from dataclasses import dataclass
from typing import Final

HELP_LENGTH: Final = 80


class Values(enum.Enum):
    """What an option's value, or a positional argument, completes to."""

    NOTHING = "nothing"  # a name, a duration: nothing to offer
    CHOICES = "choices"
    FILES = "files"
    DIRECTORIES = "directories"


@dataclass(frozen=True, kw_only=True)
class Option:
    flags: tuple[str, ...]  # ("-f", "--file")
    help: str
    takes_value: bool
    metavar: str = ""
    values: Values = Values.NOTHING
    choices: tuple[str, ...] = ()
    repeatable: bool = False


@dataclass(frozen=True, kw_only=True)
class Argument:
    """A positional argument."""

    name: str
    values: Values = Values.NOTHING
    choices: tuple[str, ...] = ()
    many: bool = False


@dataclass(frozen=True, kw_only=True)
class Command:
    """The program (`path` empty) or a command under it (`("export", "kubernetes")`)."""

    path: tuple[str, ...]
    help: str
    options: tuple[Option, ...]
    arguments: tuple[Argument, ...] = ()
    commands: tuple[Command, ...] = ()

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else ""

    def walk(self) -> list[Command]:
        """This command and every one under it, parents first."""
        return [self, *(c for sub in self.commands for c in sub.walk())]


def command_tree(parser: argparse.ArgumentParser) -> Command:
    return _command(parser, (), one_line(parser.description or ""))


def _command(parser: argparse.ArgumentParser, path: tuple[str, ...], help_text: str) -> Command:
    options: list[Option] = []
    arguments: list[Argument] = []
    commands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                commands.append(_command(sub, (*path, name), one_line(helps.get(name, ""))))
        elif action.help == argparse.SUPPRESS:
            continue
        elif action.option_strings:
            options.append(_option(action))
        else:
            arguments.append(_argument(action))
    return Command(
        path=path,
        help=help_text,
        options=tuple(options),
        arguments=tuple(arguments),
        commands=tuple(commands),
    )


def _option(action: argparse.Action) -> Option:
    takes_value = action.nargs != 0
    choices = tuple(str(c) for c in action.choices or ())
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    return Option(
        flags=tuple(action.option_strings),
        help=one_line(action.help or ""),
        takes_value=takes_value,
        metavar=metavar if takes_value else "",
        values=_values(choices, metavar) if takes_value else Values.NOTHING,
        choices=choices,
        repeatable=isinstance(action, argparse._AppendAction),
    )


def _argument(action: argparse.Action) -> Argument:
    choices = tuple(str(c) for c in action.choices or ())
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    return Argument(
        name=metavar,
        values=_values(choices, metavar),
        choices=choices,
        many=action.nargs in ("*", "+", argparse.REMAINDER),
    )


def _values(choices: tuple[str, ...], metavar: str) -> Values:
    if choices:
        return Values.CHOICES
    if metavar == "FILE":
        return Values.FILES
    if metavar == "DIR":
        return Values.DIRECTORIES
    return Values.NOTHING


def one_line(text: str) -> str:
    """A help text as a completion menu shows it: one line, the first clause, short."""
    text = " ".join(text.split())
    text = re.split(r" \(|; |\. ", text, maxsplit=1)[0].rstrip(".")
    return text if len(text) <= HELP_LENGTH else text[: HELP_LENGTH - 3].rstrip() + "..."
