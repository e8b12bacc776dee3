"""A RUN line as a process's argv: plain words run directly, shell syntax runs in a shell.

`RUN python manage.py runserver` is executed as those three words, so the service's main
process is the program itself and signals reach it directly. A line using anything only
a shell understands (pipes, redirections, `&&`, variables, globs, comments, `~`,
`NAME=value` prefixes, quotes that do not split cleanly, or a shell builtin such as `cd`
or `exec` as the first word) runs as `/bin/sh -c LINE`, like Docker's shell form. What
is inside quotes is the program's business: `sh -c 'trap "..." HUP; ...'` is three
words, and its `sh` is the main process that STOP's and RELOAD's `$MAINPID` names.
"""

from __future__ import annotations

from typing import Final

from reconciler.orchfile.words import split

SHELL: Final = ("/bin/sh", "-c")
SHELL_CHARACTERS: Final = frozenset("|&;<>()$`*?[]#~=%\\!{}\n")
SHELL_WORDS: Final = frozenset(
    {
        "!", ".", ":", "alias", "break", "case", "cd", "command", "continue", "eval", "exec",
        "exit", "export", "for", "if", "read", "readonly", "return", "set", "shift", "source",
        "test", "then", "times", "trap", "ulimit", "umask", "unset", "until", "wait", "while",
    }
)  # fmt: skip


def _unquoted_specials(command: str) -> bool:
    """Whether a character only a shell understands appears where quoting does not
    neutralise it: outside quotes, or `$` and backquotes inside double quotes. So
    `sh -c 'a; b'` is three plain words, and `echo "$HOME"` needs a shell."""
    quote = ""
    escaped = False
    for char in command:
        if escaped:
            escaped = False
        elif quote == "'":
            quote = "" if char == "'" else quote
        elif quote == '"':
            if char == "\\":
                escaped = True
            elif char == '"':
                quote = ""
            elif char in "$`":
                return True
        elif char in "'\"":
            quote = char
        elif char == "\\":
            escaped = True
        elif char in SHELL_CHARACTERS:
            return True
    return False


def needs_shell(command: str) -> bool:
    if _unquoted_specials(command):
        return True
    try:
        words = split(command)
    except ValueError:
        return True
    return not words or words[0] in SHELL_WORDS


def command_argv(command: str) -> tuple[str, ...]:
    """The argv that runs the RUN line `command`."""
    if needs_shell(command):
        return (*SHELL, command)
    return tuple(split(command))
