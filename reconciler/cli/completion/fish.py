"""The fish completion script: `reconciler completion fish | source`, or saved as
`~/.config/fish/completions/reconciler.fish`.

One `complete` line per command and per option, each under the condition that says
where it applies: the program's own before any command, a command's after it (and a
command's commands before one of them). Paths are offered only where a FILE or DIR is
expected.
"""

from __future__ import annotations

from reconciler.cli.completion.tree import Command, Option, Values

_HEADER = """\
# fish completion for reconciler; load with: reconciler completion fish | source
# (or save it as ~/.config/fish/completions/reconciler.fish)
complete -c reconciler -f
"""


def script(root: Command) -> str:
    lines = [_HEADER.rstrip("\n")]
    for command in root.walk():
        where = _condition(command)
        lines.append("")
        for sub in command.commands:
            lines.append(
                f"complete -c reconciler -n {_quote(where)} -a {sub.name} -d {_quote(sub.help)}"
            )
        for option in command.options:
            lines.append(_option_line(option, where))
        for argument in command.arguments:
            if argument.values is Values.CHOICES:
                words = " ".join(argument.choices)
                lines.append(f"complete -c reconciler -n {_quote(where)} -a {_quote(words)}")
            elif argument.values in (Values.FILES, Values.DIRECTORIES):
                lines.append(f"complete -c reconciler -n {_quote(where)} -F")
    return "\n".join(lines) + "\n"


def _condition(command: Command) -> str:
    """Where `command`'s completions apply: it was typed, and none of its own commands
    yet (`__fish_seen_subcommand_from`, fish's own helper, reads the whole line)."""
    if not command.path:
        return "__fish_use_subcommand"
    seen = [f"__fish_seen_subcommand_from {name}" for name in command.path]
    if command.commands:
        names = " ".join(sub.name for sub in command.commands)
        seen.append(f"not __fish_seen_subcommand_from {names}")
    return "; and ".join(seen)


def _option_line(option: Option, where: str) -> str:
    parts = ["complete -c reconciler", f"-n {_quote(where)}"]
    for flag in option.flags:
        if flag.startswith("--"):
            parts.append(f"-l {flag[2:]}")
        elif len(flag) == 2:
            parts.append(f"-s {flag[1]}")
        else:
            parts.append(f"-o {flag[1:]}")  # old-style: -flag
    if option.takes_value:
        match option.values:
            case Values.CHOICES:
                parts.append(f"-x -a {_quote(' '.join(option.choices))}")
            case Values.FILES:
                parts.append("-r -F")
            case Values.DIRECTORIES:
                parts.append("-x -a '(__fish_complete_directories)'")
            case Values.NOTHING:
                parts.append("-x")
    if option.help:
        parts.append(f"-d {_quote(option.help)}")
    return " ".join(parts)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
