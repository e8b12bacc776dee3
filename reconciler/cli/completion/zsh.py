"""The zsh completion script: `source <(reconciler completion zsh)` after `compinit`, or
saved as `_reconciler` in a folder of `$fpath`.

One `_arguments` function per command (`_reconciler_export_kubernetes`), each option
with its description, the flags it excludes (its own other spelling), and what its
value completes to; a command with commands under it offers them with their help and
hands the rest of the line to the chosen one.
"""

from __future__ import annotations

from reconciler.cli.completion.tree import Argument, Command, Option, Values

_HEADER = """\
#compdef reconciler
# zsh completion for reconciler; load with: source <(reconciler completion zsh)
# (after compinit), or save it as _reconciler in a folder of $fpath.
"""
_FOOTER = """\
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _reconciler "$@"
else
  compdef _reconciler reconciler
fi
"""


def script(root: Command) -> str:
    return _HEADER + "\n" + "\n".join(_function(c) for c in root.walk()) + "\n" + _FOOTER


_CONTINUED = " \\\n    "  # one spec per line


def _function(command: Command) -> str:
    name = _name(command)
    specs = [_option_spec(option) for option in command.options]
    if command.commands:
        specs += ["'1:command:->command'", "'*::argument:->argument'"]
        menu = "\n".join(
            "        " + _quote(_message(sub.name) + ":" + sub.help) for sub in command.commands
        )
        dispatch = "\n".join(f"        {sub.name}) {_name(sub)} ;;" for sub in command.commands)
        body = (
            "  local curcontext=$curcontext state line\n"
            "  typeset -A opt_args\n"
            f"  _arguments -C{_CONTINUED}{_CONTINUED.join(specs)}\n"
            "  case $state in\n"
            "    command)\n"
            "      local -a commands=(\n"
            f"{menu}\n"
            "      )\n"
            "      _describe -t commands command commands ;;\n"
            "    argument)\n"
            "      case $words[1] in\n"
            f"{dispatch}\n"
            "      esac ;;\n"
            "  esac\n"
        )
    else:
        specs += [_argument_spec(argument, n) for n, argument in enumerate(command.arguments, 1)]
        body = f"  _arguments{_CONTINUED}{_CONTINUED.join(specs)}\n"
    return f"{name}() {{\n{body}}}\n"


def _name(command: Command) -> str:
    return "_".join(("_reconciler", *command.path)).replace("-", "_")


def _option_spec(option: Option) -> str:
    if {"-h", "--help", "--version"} & set(option.flags):
        exclude = "(- *)"  # nothing else makes sense with it
    elif option.repeatable:
        exclude = "*"
    else:
        exclude = "(" + " ".join(option.flags) + ")"  # once, in either spelling
    flags = option.flags[0] if len(option.flags) == 1 else "{" + ",".join(option.flags) + "}"
    spec = f"[{_bracketed(option.help)}]"
    if option.takes_value:
        spec += f":{_message(option.metavar)}:{_action(option.values, option.choices)}"
    return f"{_quote(exclude)}{flags}{_quote(spec)}"


def _argument_spec(argument: Argument, position: int) -> str:
    where = "*" if argument.many else str(position)
    action = _action(argument.values, argument.choices)
    return _quote(f"{where}:{_message(argument.name)}:{action}")


def _action(values: Values, choices: tuple[str, ...]) -> str:
    match values:
        case Values.CHOICES:
            return "(" + " ".join(choices) + ")"
        case Values.FILES:
            return "_files"
        case Values.DIRECTORIES:
            return "_files -/"
        case Values.NOTHING:
            return " "


def _bracketed(text: str) -> str:
    """An option's description, inside `[...]`."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _message(text: str) -> str:
    """A value's name, between the colons of a spec."""
    return text.replace("\\", "\\\\").replace(":", "\\:")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
