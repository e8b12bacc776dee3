"""Lines and words of an Orchfile, split the way the reference parser splits them.

The reference trims lines and splits directives with Unicode White_Space, which is not
quite Python's `str.isspace` (that one also counts the ASCII separators U+001C..U+001F),
so this module names the set once and everything else splits through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final, NamedTuple

WHITESPACE: Final = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_WORDS: Final = re.compile(f"[^{re.escape(WHITESPACE)}]+")
_BOM: Final = "\ufeff"


class Line(NamedTuple):
    """A directive line: 1-based number, directive word, and the rest (None if absent).

    A named tuple rather than a dataclass: one is made per line, and this is the
    parser's hottest allocation."""

    number: int
    directive: str
    value: str | None


def directive_lines(text: str) -> Iterator[Line]:
    """Yield every line that is neither blank nor a comment, trimmed and split."""
    text = text.removeprefix(_BOM)
    for index, raw in enumerate(text.split("\n")):
        line = raw.strip(WHITESPACE)
        if not line or line.startswith("#"):
            continue
        match = _WORDS.match(line)
        assert match is not None  # a trimmed, non-empty line starts with a word
        directive = match.group()
        rest = line[match.end() :].lstrip(WHITESPACE)
        yield Line(index + 1, directive, rest or None)


def words(value: str) -> list[str]:
    """Split a value into whitespace-separated words (REQUIRES, AFTER)."""
    return _WORDS.findall(value)
