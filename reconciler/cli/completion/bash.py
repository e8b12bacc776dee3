"""The bash completion script: `source <(reconciler completion bash)`.

It finds the command being typed (`export kubernetes` included) from the words before
the cursor, then offers that command's options, the value an option takes (its choices,
paths for FILE, directories for DIR, nothing for a name or a duration), its commands,
or its positional argument's.
"""

from __future__ import annotations

from reconciler.cli.completion.tree import Command, Values

_SCRIPT = """\
# bash completion for reconciler; load with: source <(reconciler completion bash)
_reconciler() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local path=reconciler i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "$path:${{COMP_WORDS[i]}}" in
{descend}
        esac
    done
    local commands="" opts="" args=""
    case "$path" in
{menus}
    esac
    case "$path:$prev" in
{values}
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ -n $commands ]]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    elif [[ $args == @files ]]; then
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$args" -- "$cur"))
    fi
}}
complete -F _reconciler reconciler
"""

_CHOICES = """\
            COMPREPLY=($(compgen -W "{words}" -- "$cur")); return ;;"""
_FILES = """\
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur")); return ;;"""
_DIRECTORIES = """\
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -d -- "$cur")); return ;;"""


def script(root: Command) -> str:
    commands = root.walk()
    descend = [
        f"            {_var(c)}:{sub.name}) path={_var(sub)} ;;"
        for c in commands
        for sub in c.commands
    ]
    menus = [f"        {_var(c)}) {_menu(c)} ;;" for c in commands]
    values: list[str] = []
    for command in commands:
        for option in command.options:
            if not option.takes_value:
                continue
            pattern = "|".join(f"{_var(command)}:{flag}" for flag in option.flags)
            values.append(f"        {pattern})")
            if option.values is Values.CHOICES:
                words = " ".join(option.choices)
                values.append(
                    f'            COMPREPLY=($(compgen -W "{words}" -- "$cur")); return ;;'
                )
            elif option.values is Values.FILES:
                values.append(_FILES)
            elif option.values is Values.DIRECTORIES:
                values.append(_DIRECTORIES)
            else:
                values.append("            COMPREPLY=(); return ;;")
    return _SCRIPT.format(
        descend="\n".join(descend), menus="\n".join(menus), values="\n".join(values)
    )


def _var(command: Command) -> str:
    """`reconciler_export_kubernetes`: a command's path as one bash word."""
    return "_".join(("reconciler", *command.path)).replace("-", "_")


def _menu(command: Command) -> str:
    flags = " ".join(sorted(f for option in command.options for f in option.flags))
    parts = [f'opts="{flags}"']
    if command.commands:
        parts.append(f'commands="{" ".join(c.name for c in command.commands)}"')
    if command.arguments:
        argument = command.arguments[0]
        if argument.values is Values.FILES:
            parts.append('args="@files"')
        elif argument.values is Values.CHOICES:
            parts.append(f'args="{" ".join(argument.choices)}"')
    return "; ".join(parts)
