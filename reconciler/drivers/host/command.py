"""A RUN line as a process's argv: plain words run directly, shell syntax runs in a shell.

`RUN python manage.py runserver` is executed as those three words, so the service's main
process is the program itself and signals reach it directly. A line using anything only
a shell understands (pipes, redirections, `&&`, variables, globs, comments, `~`,
`NAME=value` prefixes, quotes that do not split cleanly, or a shell builtin such as `cd`
or `exec` as the first word) runs as `/bin/sh -c LINE`, like Docker's shell form.
"""

from __future__ import annotations

import shlex
from typing import Final

SHELL: Final = ("/bin/sh", "-c")
SHELL_CHARACTERS: Final = frozenset("|&;<>()$`*?[]#~=%\\!{}\n")
SHELL_WORDS: Final = frozenset(
    {
        "!", ".", ":", "alias", "break", "case", "cd", "command", "continue", "eval", "exec",
        "exit", "export", "for", "if", "read", "readonly", "return", "set", "shift", "source",
        "test", "then", "times", "trap", "ulimit", "umask", "unset", "until", "wait", "while",
    }
)  # fmt: skip


def needs_shell(command: str) -> bool:
    if any(char in SHELL_CHARACTERS for char in command):
        return True
    try:
        words = shlex.split(command)
    except ValueError:
        return True
    return not words or words[0] in SHELL_WORDS


def command_argv(command: str) -> tuple[str, ...]:
    """The argv that runs the RUN line `command`."""
    if needs_shell(command):
        return (*SHELL, command)
    return tuple(shlex.split(command))
