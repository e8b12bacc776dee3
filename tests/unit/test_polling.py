"""``eventually`` returns as soon as a check passes and explains a timeout."""

from __future__ import annotations

import itertools

import pytest

from tests.support.polling import eventually


def test_eventually_returns_the_first_truthy_result() -> None:
    calls = itertools.count()

    assert eventually(lambda: next(calls) >= 3 and "ready", interval=0) == "ready"


def test_eventually_retries_a_failing_assertion_until_it_passes() -> None:
    calls = itertools.count()

    def check() -> bool:
        assert next(calls) >= 2, "not yet"
        return True

    assert eventually(check, interval=0)


def test_eventually_fails_with_the_last_assertion_message_after_the_deadline() -> None:
    def check() -> bool:
        raise AssertionError("still 3 tasks")

    with pytest.raises(AssertionError, match=r"tasks gone: not met within 0\.05s: still 3 tasks"):
        eventually(check, timeout=0.05, interval=0.01, what="tasks gone")


def test_eventually_reports_the_last_falsy_result_after_the_deadline() -> None:
    with pytest.raises(AssertionError, match=r"last result \[\]"):
        eventually(list, timeout=0.05, interval=0.01)


def test_other_exceptions_are_not_retried() -> None:
    def check() -> bool:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        eventually(check)
