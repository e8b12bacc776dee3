"""Filter strings are always quoted so keys with '-' or '/' and values starting with '/' work."""

from __future__ import annotations

from reconciler.drivers.containerd.filters import (
    equals,
    label_equals,
    labels_match,
    quote,
    request_filters,
)


def test_quote_escapes_backslashes_and_quotes() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'


def test_a_label_with_dashes_and_dots_is_quoted_whole() -> None:
    assert label_equals("orch.managed-by", "reconciler") == 'labels."orch.managed-by"=="reconciler"'


def test_a_value_starting_with_a_slash_is_quoted() -> None:
    assert equals("topic", "/tasks/exit") == 'topic=="/tasks/exit"'


def test_several_labels_are_anded_in_one_string_in_key_order() -> None:
    assert labels_match({"b": "2", "a": "1"}) == 'labels."a"=="1",labels."b"=="2"'


def test_no_labels_and_no_filters_match_everything() -> None:
    assert request_filters(None, ()) == []


def test_labels_are_added_to_every_alternative() -> None:
    assert request_filters({"a": "1"}, ["kind==active", "kind==view"]) == [
        'labels."a"=="1",kind==active',
        'labels."a"=="1",kind==view',
    ]
