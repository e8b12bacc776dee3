"""Word splitting: what `shlex.split` gives, in time linear in the line's length."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.orchfile.words import split

TRICKY = st.text(alphabet="ab \t\n'\"\\#$;|=é", max_size=40)


@settings(max_examples=3000)
@given(TRICKY)
def test_words_are_what_shlex_gives_or_the_same_error(line: str) -> None:
    try:
        expected = shlex.split(line)
    except ValueError as error:
        with pytest.raises(ValueError, match=str(error)):
            split(line)
        return
    assert split(line) == expected


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("sh -c 'trap \"exit 0\" TERM; sleep 1'", ["sh", "-c", 'trap "exit 0" TERM; sleep 1']),
        ('echo "a \\" b" c\\ d', ["echo", 'a " b', "c d"]),
        ("a'b c'd", ["ab cd"]),
        ("''", [""]),
        ("", []),
    ],
)
def test_quotes_and_escapes_group_and_disappear(line: str, words: list[str]) -> None:
    assert split(line) == words


def test_a_word_of_three_megabytes_is_split_whole() -> None:
    # Linear: hundredths of a second here, where shlex needs minutes (past the timeout).
    word = "x" * 3_000_000
    quoted = "'" + "y" * 3_000_000 + "'"
    assert split(f"run {word} {quoted}") == ["run", word, "y" * 3_000_000]
