"""docs/cli.md, written from the argparse parser itself: `hack/gen-cli-docs` writes it,
and a unit test fails when the committed file differs from what this prints.

The command sections (usage, description, options with their defaults, choices and the
environment variables their help names) are read from `reconciler.cli.build_parser`; the
tables of labels and leak classes are read from `model.labels` and `model.leaks`, with
a sentence each from `reference_text`, so a new label or leak class without one fails
the generator. The exit codes, the environment variables and the page's prose are
written by hand in `reference_text`; this module only walks the parser and renders.

Not imported by `reconciler.cli` itself: no command needs it at run time.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from reconciler.cli import build_parser
from reconciler.cli.reference_text import (
    COMMAND_EXIT_CODES,
    ENVIRONMENT,
    HEADER,
    LABELS,
    LABELS_INTRO,
    LEAKS,
    LEAKS_INTRO,
    SHARED_EXIT_CODES,
    SHARED_OPTIONS_INTRO,
)
from reconciler.model import labels
from reconciler.model.leaks import LeakClass

DOC_PATH: Final = Path("docs/cli.md")
# An option that this many commands declare with the same help is listed once, under
# "Options shared by commands", and only named in each command's section.
SHARED_AT_LEAST: Final = 3
_ENV_REFERENCE: Final = re.compile(r"\$([A-Z][A-Z0-9_]*)|\b(ORCH_ARG_NAME)\b")


def _rows(rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table; the first row is the heading."""
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=100_000)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, prefix="")
    return " ".join(formatter.format_help().split())


def _subcommands(
    parser: argparse.ArgumentParser,
) -> list[tuple[str, str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                found.append((name, helps.get(name, ""), sub))
    return found


# A command: its words after `reconciler`, its one-line summary, its parser.
_Command = tuple[tuple[str, ...], str, argparse.ArgumentParser]


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...], summary: str) -> list[_Command]:
    found = [(path, summary, parser)]
    for name, help_text, sub in _subcommands(parser):
        found.extend(_walk(sub, (*path, name), help_text))
    return found


def _documented(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        action
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        and not isinstance(action, argparse._SubParsersAction | argparse._HelpAction)
    ]


def _key(action: argparse.Action) -> tuple[str, str, str]:
    return (action.dest, action.help or "", repr(action.choices))


def _value(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices:
        return " \\| ".join(f"`{choice}`" for choice in action.choices)
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    return f"`{metavar}`"


def _default(action: argparse.Action) -> str:
    default = action.default
    if action.nargs == 0 or default in (None, [], argparse.SUPPRESS):
        return ""
    return f"`{default}`"


def _environment(action: argparse.Action) -> str:
    names = []
    for match in _ENV_REFERENCE.finditer(action.help or ""):
        name = match.group(1) or match.group(2)
        if name not in names:
            names.append(name)
    return ", ".join(f"`{name}`" for name in names)


def _flags(action: argparse.Action) -> str:
    if action.option_strings:
        return ", ".join(f"`{flag}`" for flag in action.option_strings)
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    return f"`{metavar}`" + (" ..." if action.nargs in ("*", "+") else "")


def _table(actions: Sequence[argparse.Action]) -> list[str]:
    lines = [
        "| option | value | default | environment | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for action in actions:
        help_text = _cell(action.help or "")
        if action.option_strings and isinstance(action, argparse._AppendAction):
            help_text = help_text or "repeatable"
        lines.append(
            f"| {_flags(action)} | {_value(action)} | {_default(action)} "
            f"| {_environment(action)} | {help_text} |"
        )
    return lines


def _anchor(title: str) -> str:
    """GitHub's anchor for a heading: lowercased, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^a-z0-9 _-]", "", title.lower()).replace(" ", "-")


def _shared_keys(commands: list[_Command]) -> set[tuple[str, str, str]]:
    """Options that SHARED_AT_LEAST commands declare alike: documented once."""
    counts: dict[tuple[str, str, str], int] = {}
    for path, _, sub in commands:
        if path:
            for action in _documented(sub):
                if action.option_strings:
                    counts[_key(action)] = counts.get(_key(action), 0) + 1
    return {key for key, count in counts.items() if count >= SHARED_AT_LEAST}


def _command_section(
    command: _Command,
    shared: set[tuple[str, str, str]],
    shared_actions: dict[tuple[str, str, str], argparse.Action],
) -> list[str]:
    """One command's heading, usage, description and own options; the shared options it
    declares are named and collected into `shared_actions`."""
    path, summary, sub = command
    title = " ".join(("reconciler", *path))
    out = [f"### {title}", "", "```", _usage(sub), "```", ""]
    description = sub.description or summary
    if description:
        out += [" ".join(description.split()), ""]
    own: list[argparse.Action] = []
    common: list[str] = []
    for action in _documented(sub):
        if path and action.option_strings and _key(action) in shared:
            shared_actions.setdefault(_key(action), action)
            common.append("/".join(action.option_strings))
        else:
            own.append(action)
    if common:
        names = ", ".join(f"`{name}`" for name in common)
        out += [f"Shared options: {names} ([see below](#options-shared-by-commands)).", ""]
    if own:
        out += [*_table(own), ""]
    if sub_commands := _subcommands(sub):
        names = ", ".join(f"`{name}`" for name, _, _ in sub_commands)
        out += [f"Subcommands: {names}.", ""]
    return out


def render_reference(parser: argparse.ArgumentParser | None = None) -> str:
    """The whole of docs/cli.md."""
    root = parser or build_parser()
    commands = _walk(root, (), root.description or "")
    shared = _shared_keys(commands)
    out = [HEADER, "## Commands", ""]
    for path, summary, _ in commands[1:]:
        title = "reconciler " + " ".join(path)
        out.append(f"- [`{title}`](#{_anchor(title)}): {_cell(summary)}")
    out += [
        "",
        "Also: [Options shared by commands](#options-shared-by-commands), "
        "[Exit codes](#exit-codes), [Environment variables](#environment-variables), "
        "[Labels on containerd objects](#labels-on-containerd-objects), "
        "[What counts as a leak](#what-counts-as-a-leak).",
        "",
    ]
    shared_actions: dict[tuple[str, str, str], argparse.Action] = {}
    for command in commands:
        out += _command_section(command, shared, shared_actions)
    out += [
        "## Options shared by commands",
        "",
        SHARED_OPTIONS_INTRO,
        "",
        *_table(list(shared_actions.values())),
        "",
        "## Exit codes",
        "",
        "Codes every command shares:",
        "",
        *_rows(SHARED_EXIT_CODES),
        "",
        "Codes particular to a command:",
        "",
        *_rows(COMMAND_EXIT_CODES),
        "",
        "## Environment variables",
        "",
        "A flag wins over its variable, and the variable over the default.",
        "",
        *_rows(ENVIRONMENT),
        "",
        LABELS_INTRO.rstrip("\n"),
    ]
    for name, value in _label_constants():
        if name not in LABELS:
            raise KeyError(
                f"labels.{name} has no sentence in reconciler/cli/reference_text.py LABELS"
            )
        out.append(f"| `{value}` | {_cell(LABELS[name])} |")
    out += ["", LEAKS_INTRO.rstrip("\n")]
    for leak_class in LeakClass:
        if leak_class not in LEAKS:
            raise KeyError(
                f"{leak_class} has no sentence in reconciler/cli/reference_text.py LEAKS"
            )
        out.append(f"| `{leak_class.value}` | {_cell(LEAKS[leak_class])} |")
    return "\n".join(out) + "\n"


def _label_constants() -> list[tuple[str, str]]:
    """The label keys of `model.labels`, in the order the module defines them."""
    return [
        (name, value)
        for name, value in vars(labels).items()
        if name.isupper() and isinstance(value, str) and name != "MANAGED_BY_VALUE"
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m reconciler.cli.reference [PATH]`: write docs/cli.md (or PATH)."""
    args = list(sys.argv[1:] if argv is None else argv)
    target = Path(args[0]) if args else DOC_PATH
    target.write_text(render_reference())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
