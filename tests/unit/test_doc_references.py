"""Every Markdown file the code, the tests, the scripts and the docs point at is in the
repository, and so is every section they name and every link between the docs.

Docstrings and comments say where the reasoning behind them is written down
(`docs/containerd.md, "Tasks"`). A pointer to a page the repository does not carry (a
design note that was never committed, a page since renamed) sends a maintainer nowhere,
so any path or bare file name ending in `.md` must name a file that exists, relative to
the file that mentions it or to the repository's root; a quoted section after a pointer
into `docs/` must be one of that page's headings; and the relative links of README.md and
docs/*.md must resolve, anchors included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED_TREES = ("reconciler", "tests", "hack")
SKIPPED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
MAX_SCANNED_BYTES = 1 << 20

URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
# A path (`docs/<page>.md`, `../README.md`) or a bare name (`<NAME>.md`) ending in `.md`.
MD_REFERENCE = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w-][\w.-]*\.md)(?![\w-])")
# `docs/<page>.md, "Heading"`, or several: `"One" and "Two"`: the sections a pointer names.
SECTIONS = re.compile(r"(docs/[\w-]+\.md),\s*((?:\"[^\"\n]+\"(?:\s*(?:,|and|;)\s*)?)+)")
QUOTED = re.compile(r"\"([^\"]+)\"")
# A comment continued on the next line: `# (docs/<page>.md,\n    # "Heading")`.
COMMENT_BREAK = re.compile(r"\n[ \t]*#[ \t]*")
MD_LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def scanned_files() -> Iterator[Path]:
    for tree in SCANNED_TREES:
        for path in sorted((ROOT / tree).rglob("*")):
            if SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts) or not path.is_file():
                continue
            yield path
    yield ROOT / "README.md"
    yield from markdown_pages()


def markdown_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def text_of(path: Path) -> str | None:
    """The file's text, or None for what is no text to read (binary, or huge)."""
    if path.stat().st_size > MAX_SCANNED_BYTES:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def references(text: str) -> list[str]:
    """The Markdown files `text` mentions (URLs left out: they point outside the repo)."""
    return MD_REFERENCE.findall(URL.sub(" ", text))


def resolves(reference: str, mentioned_in: Path) -> bool:
    """Relative to the mentioning file, the repository's root, or docs/ (the generator of
    docs/cli.md writes links between the pages by their bare names)."""
    bases = (mentioned_in.parent, ROOT, ROOT / "docs")
    return any((base / reference).is_file() for base in bases)


def named_sections(text: str) -> list[tuple[str, str]]:
    """(page, heading) for each section named after a pointer into docs/."""
    flat = " ".join(COMMENT_BREAK.sub(" ", text).split())
    return [
        (page, heading)
        for page, quoted in SECTIONS.findall(flat)
        for heading in QUOTED.findall(quoted)
    ]


def headings(page: Path) -> list[str]:
    return [h.strip() for h in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8")))]


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lowercased, punctuation but `-` and `_` dropped,
    spaces turned into `-`."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def links(page: Path) -> list[str]:
    """Relative link targets of a Markdown page (code blocks and URLs left out)."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [
        target
        for target in MD_LINK.findall(text)
        if not URL.match(target) and not target.startswith("mailto:")
    ]


def broken_link(target: str, page: Path) -> str | None:
    """Why `target`, linked from `page`, goes nowhere; None when it resolves."""
    path_part, _, fragment = target.partition("#")
    linked = (page.parent / path_part).resolve() if path_part else page
    if not linked.exists():
        return f"{target}: no such file"
    if not linked.is_relative_to(ROOT):
        return f"{target}: outside the repository"
    anchors = {anchor(h) for h in headings(linked)} if linked.suffix == ".md" else set()
    if fragment and linked.suffix == ".md" and fragment not in anchors:
        return f"{target}: no heading with anchor '#{fragment}' in {linked.name}"
    return None


def test_every_markdown_file_mentioned_exists() -> None:
    missing = []
    for path in scanned_files():
        text = text_of(path)
        if text is None:
            continue
        for reference in references(text):
            if not resolves(reference, path):
                missing.append(f"{path.relative_to(ROOT)}: {reference}")
    assert missing == [], "\n".join(missing)


def test_every_section_named_in_a_pointer_is_a_heading_of_its_page() -> None:
    missing = []
    for path in scanned_files():
        text = text_of(path)
        if text is None:
            continue
        for page, heading in named_sections(text):
            target = ROOT / page
            if target.is_file() and heading not in headings(target):
                missing.append(f'{path.relative_to(ROOT)}: {page}, "{heading}"')
    assert missing == [], "\n".join(missing)


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_between_the_docs_resolve(page: Path) -> None:
    broken = [why for target in links(page) if (why := broken_link(target, page)) is not None]
    assert broken == []


def test_a_reference_is_found_in_prose_code_and_paths_but_not_in_urls() -> None:
    name = "nowhere" + ".md"
    text = (
        f"see docs/{name}, ../{name} and {name}; "
        f"not https://example.com/{name} nor a glob like *.md or {name}x"
    )
    assert references(text) == [f"docs/{name}", f"../{name}", name]


def test_sections_are_read_across_a_wrapped_comment() -> None:
    page = "docs/" + "page" + ".md"
    text = f'# the reason ({page},\n    # "First part" and "Second\n    # part")'
    assert named_sections(text) == [(page, "First part"), (page, "Second part")]


def test_anchors_follow_githubs_rules() -> None:
    assert anchor("From a save to actions") == "from-a-save-to-actions"
    assert anchor("`--network host`") == "--network-host"
    assert anchor("Dependencies (C4)") == "dependencies-c4"
