"""`reconciler completion bash|zsh|fish`: scripts made from the parser itself. Each is
checked by its own shell (syntax, then real completions: bash through `_reconciler`,
fish through `complete -C`, zsh through a terminal it drives with `zpty`), and against
the parser, so no command, option or choice is ever missing from one of them."""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
from pathlib import Path
from typing import Final

import pytest

from reconciler.cli import build_parser, main
from reconciler.cli.completion.tree import Command, Values, command_tree, one_line

SHELLS: Final = ("bash", "zsh", "fish")
# What each shell must offer after these words: (line typed, some of what is offered).
CASES: Final = [
    ("reconciler sta", {"status"}),
    ("reconciler status --output ", {"table", "wide", "json", "yaml"}),
    ("reconciler completion ", {"bash", "zsh", "fish"}),
    ("reconciler export ", {"kubernetes"}),
    ("reconciler export kubernetes --ex", {"--expose"}),
    ("reconciler apply -", {"--quiet", "--wait", "--file"}),
    ("reconciler run --metrics", {"--metrics-address"}),
]


def script(shell: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["completion", shell]) == 0
    return out.getvalue()


def needs(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        pytest.skip(f"{program} is not installed (apt-get install {program})")
    return found


@pytest.fixture(scope="module")
def tree() -> Command:
    return command_tree(build_parser())


# -- the tree -------------------------------------------------------------------------------


def test_the_tree_has_every_command_of_the_parser_nested_ones_included(tree: Command) -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert [c.name for c in tree.commands] == list(subparsers.choices)
    export = next(c for c in tree.commands if c.name == "export")
    assert [c.path for c in export.commands] == [("export", "kubernetes")]


def test_options_know_their_values(tree: Command) -> None:
    status = next(c for c in tree.commands if c.name == "status")
    options = {o.flags: o for o in status.options}
    assert options[("-o", "--output")].choices == ("table", "wide", "json", "yaml")
    assert options[("-f", "--file")].values is Values.FILES
    assert options[("-f", "--file")].repeatable
    assert options[("--state-dir",)].values is Values.DIRECTORIES
    assert options[("--project",)].values is Values.NOTHING
    assert not options[("--watch",)].takes_value
    assert ("--debug",) not in options  # hidden from help, hidden from completion


def test_help_is_one_short_line() -> None:
    assert one_line("give up after\n  this long (e.g. 90s, 5m)") == "give up after this long"
    assert len(one_line("x" * 200)) == 80


# -- every script, against the parser -------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_every_command_option_and_choice_is_in_every_script(shell: str, tree: Command) -> None:
    text = script(shell)
    for command in tree.walk():
        for name in command.path:
            assert name in text, (shell, name)
        for option in command.options:
            for flag in option.flags:
                assert flag.lstrip("-") in text, (shell, command.path, flag)
            for choice in option.choices:
                assert choice in text, (shell, command.path, choice)


@pytest.mark.parametrize("shell", SHELLS)
def test_each_script_is_valid_for_its_shell(shell: str, tmp_path: Path) -> None:
    program = needs(shell)
    path = tmp_path / f"reconciler.{shell}"
    path.write_text(script(shell))
    checked = subprocess.run(
        [program, "-n", str(path)], capture_output=True, text=True, check=False
    )
    assert (checked.returncode, checked.stderr) == (0, "")


# -- real completions, one shell at a time --------------------------------------------------

BASH_DRIVER: Final = """\
source "$1"
read -ra COMP_WORDS <<< "$2"
[[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_reconciler
printf '%s\\n' "${COMPREPLY[@]}"
"""


@pytest.mark.parametrize(("line", "offered"), CASES)
def test_bash_completes(line: str, offered: set[str], tmp_path: Path) -> None:
    path = tmp_path / "reconciler.bash"
    path.write_text(script("bash"))
    done = subprocess.run(
        [needs("bash"), "-c", BASH_DRIVER, "driver", str(path), line],
        capture_output=True,
        text=True,
        check=True,
    )
    assert offered <= set(done.stdout.split())


def test_bash_offers_paths_only_where_a_path_is_expected(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.bash"
    path.write_text(script("bash"))
    (tmp_path / "Orchfile").write_text("")

    def offered(line: str) -> list[str]:
        done = subprocess.run(
            [needs("bash"), "-c", BASH_DRIVER, "driver", str(path), line],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
        )
        return done.stdout.split()

    assert offered("reconciler render Orch") == ["Orchfile"]
    assert offered("reconciler status -f Orch") == ["Orchfile"]
    assert offered("reconciler status --project Orch") == []
    assert offered("reconciler restart Orch") == []


@pytest.mark.parametrize(("line", "offered"), CASES)
def test_fish_completes(line: str, offered: set[str], tmp_path: Path) -> None:
    path = tmp_path / "reconciler.fish"
    path.write_text(script("fish"))
    done = subprocess.run(
        [needs("fish"), "--no-config", "-c", f"source {path}; complete -C'{line}'"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert offered <= {row.split("\t")[0] for row in done.stdout.splitlines()}


# zsh completes only inside its line editor: drive an interactive zsh on a pseudo-terminal,
# type the line and a TAB, and read the screen until what is expected shows after the
# typed line (or 10 s).
ZSH_DRIVER: Final = """\
setopt extendedglob
zmodload zsh/zpty
zpty z 'TERM=dumb zsh -f -i'
zpty -w z "PS1='> '; unset zle_bracketed_paste; autoload -U compinit; \
compinit -u -d $3/zcompdump; source $1; zstyle ':completion:*' list-prompt ''; LISTMAX=1000"
zpty -w -n z "$2"$'\\t'
local screen= chunk
local -F deadline=$(( SECONDS + 10 ))
while (( SECONDS < deadline )); do
  zpty -r -t z chunk && screen+=$chunk || sleep 0.05
  [[ ${screen//$'\\e'\\[[0-9;?]#[a-zA-Z]/} == *"> reconciler"*"$4"* ]] && break
done
print -r -- ${screen//$'\\e'\\[[0-9;?]#[a-zA-Z]/}
zpty -d z
"""


@pytest.mark.parametrize(("line", "offered"), CASES)
def test_zsh_completes(line: str, offered: set[str], tmp_path: Path) -> None:
    path = tmp_path / "reconciler.zsh"
    path.write_text(script("zsh"))
    # A single match is inserted on the line; several are listed under it.
    last = sorted(offered)[-1]
    done = subprocess.run(
        [needs("zsh"), "-f", "-c", ZSH_DRIVER, "driver", str(path), line, str(tmp_path), last],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    screen = done.stdout.replace("\r", "")
    typed = screen[screen.index("> reconciler") :] if "> reconciler" in screen else ""
    assert all(word in typed for word in offered), screen
