"""docs/cli.md is what `hack/gen-cli-docs` writes from the parser: never out of date."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from reconciler.cli.reference import REGENERATE, render_reference

DOC: Final = Path(__file__).parents[3] / "docs" / "cli.md"


def test_docs_cli_md_matches_the_parser() -> None:
    assert DOC.read_text() == render_reference(), (
        f"docs/cli.md is out of date with the command line: run {REGENERATE} and commit it"
    )


def test_every_command_has_a_section() -> None:
    text = render_reference()
    for command in ("run", "apply", "leak-check", "export kubernetes", "completion"):
        assert f"\n### reconciler {command}\n" in text
