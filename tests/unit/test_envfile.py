"""ENV_FILE content: KEY=value lines, read as Docker's --env-file and systemd read them."""

from __future__ import annotations

import pytest

from reconciler.errors import InvalidOrchfile, Location
from reconciler.model.secret import Secret
from reconciler.orchfile.envfile import parse_env_file

FILE = "app.env"


def plain(text: str) -> dict[str, str]:
    return {key: value.reveal() for key, value in parse_env_file(text, FILE).items()}


def test_each_line_is_a_key_and_its_value() -> None:
    assert plain("A=1\nB=two\n") == {"A": "1", "B": "two"}


def test_values_are_secrets() -> None:
    values = parse_env_file("TOKEN=abc\n", FILE)

    assert isinstance(values["TOKEN"], Secret)
    assert "abc" not in repr(values)


def test_comment_lines_and_blank_lines_are_skipped() -> None:
    text = "# a comment\n\n   \n  # indented comment\nA=1\n"

    assert plain(text) == {"A": "1"}


def test_a_hash_later_on_a_line_is_part_of_the_value() -> None:
    assert plain("COLOR=#ff0000\n") == {"COLOR": "#ff0000"}


def test_an_export_prefix_is_allowed() -> None:
    assert plain("export A=1\n") == {"A": "1"}


def test_a_value_is_split_from_its_key_at_the_first_equals_sign() -> None:
    assert plain("URL=postgres://u:p@h/db?sslmode=require&x=y\n") == {
        "URL": "postgres://u:p@h/db?sslmode=require&x=y"
    }


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ('A="hello world"', "hello world"),
        ("A='hello world'", "hello world"),
        ('A="it\'s"', "it's"),
        ("A='say \"hi\"'", 'say "hi"'),
        ('A=""', ""),
    ],
)
def test_matching_surrounding_quotes_are_stripped(line: str, value: str) -> None:
    assert plain(line) == {"A": value}


@pytest.mark.parametrize(
    ("line", "value"),
    [("A=\"abc'", "\"abc'"), ('A="abc', '"abc'), ('A=abc"', 'abc"'), ('A="', '"')],
)
def test_unmatched_quotes_are_kept(line: str, value: str) -> None:
    assert plain(line) == {"A": value}


def test_nothing_inside_quotes_is_interpreted() -> None:
    assert plain('A="$HOME ${USER} \\n"') == {"A": "$HOME ${USER} \\n"}


def test_an_empty_value_is_allowed() -> None:
    assert plain("A=\n") == {"A": ""}


def test_a_later_line_replaces_an_earlier_value_of_the_same_key() -> None:
    assert plain("A=1\nA=2\n") == {"A": "2"}


def test_windows_line_endings_are_accepted() -> None:
    assert plain("A=1\r\nB=2\r\n") == {"A": "1", "B": "2"}


def test_a_line_without_an_equals_sign_is_an_error_at_its_file_and_line() -> None:
    with pytest.raises(InvalidOrchfile) as caught:
        parse_env_file("A=1\n# comment\nJUSTAWORD\n", FILE)

    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.location == Location(file=FILE, line=3)


def test_a_key_that_is_not_a_variable_name_is_an_error_at_its_file_and_line() -> None:
    with pytest.raises(InvalidOrchfile) as caught:
        parse_env_file("1BAD=value\n", FILE)

    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.location == Location(file=FILE, line=1)


def test_every_bad_line_is_reported_together_in_order() -> None:
    with pytest.raises(InvalidOrchfile) as caught:
        parse_env_file("nope\nA=1\n=x\nalso nope\n", FILE)

    assert [d.location for d in caught.value.diagnostics] == [
        Location(file=FILE, line=1),
        Location(file=FILE, line=3),
        Location(file=FILE, line=4),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "sk_live_SECRETVALUE",
        "SECRET VALUE=sk_live_SECRETVALUE",
        "9SECRETVALUE=sk_live_SECRETVALUE",
        "export",
    ],
)
def test_an_error_never_contains_the_text_of_the_line(line: str) -> None:
    with pytest.raises(InvalidOrchfile) as caught:
        parse_env_file(f"OK=1\n{line}\n", FILE)

    message = str(caught.value)
    assert message.startswith(f"{FILE}:2: ")
    for word in line.split():
        assert word not in message.removeprefix(f"{FILE}:2: ")
