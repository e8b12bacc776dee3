"""The journal: one publish reaches the log and every subscriber; slow readers lose their
oldest entries (and are told), never slow the engine down; closing ends every reader."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from reconciler.app.journal import Journal, level_of
from reconciler.model.journal import (
    ActionFinished,
    ActionStarted,
    Converged,
    ExitOutcome,
    SaveRejected,
    TaskExited,
)
from reconciler.model.status import Verb

AT = datetime(2026, 1, 1, tzinfo=UTC)


def started(n: int) -> ActionStarted:
    return ActionStarted(at=AT, service=f"s{n}", verb=Verb.CREATE, cause="not created yet")


@pytest.mark.asyncio
async def test_every_subscriber_gets_every_entry_in_order() -> None:
    journal = Journal()
    with journal.subscribe() as first, journal.subscribe() as second:
        for n in range(3):
            journal.publish(started(n))
        assert [await first.next() for _ in range(3)] == [started(n) for n in range(3)]
        assert [await second.next() for _ in range(3)] == [started(n) for n in range(3)]
    assert journal.subscribers == 0


@pytest.mark.asyncio
async def test_a_slow_reader_loses_its_oldest_entries_and_counts_them() -> None:
    journal = Journal(backlog=2)
    with journal.subscribe() as slow:
        for n in range(5):
            journal.publish(started(n))
        assert slow.dropped == 3
        assert [await slow.next(), await slow.next()] == [started(3), started(4)]


@pytest.mark.asyncio
async def test_closing_ends_every_reader_even_one_subscribing_late() -> None:
    journal = Journal()
    with journal.subscribe() as early:
        journal.close()
        assert await early.next() is None
    with journal.subscribe() as late:
        assert await late.next() is None


def test_each_entry_is_logged_as_its_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="reconciler")
    Journal().publish(SaveRejected(at=AT, error="Orchfile:3: unknown directive 'FORM'"))
    assert caplog.messages == [
        "save not applied, the last good state stays in force: Orchfile:3: unknown directive 'FORM'"
    ]


def test_failures_are_errors_and_routine_completions_are_quiet() -> None:
    ok = ActionFinished(
        at=AT, service="web", verb=Verb.CREATE, cause="c", duration=timedelta(seconds=1)
    )
    failed = ActionFinished(
        at=AT,
        service="web",
        verb=Verb.CREATE,
        cause="c",
        duration=timedelta(seconds=1),
        error="boom",
    )
    retrying = ActionFinished(
        at=AT,
        service="web",
        verb=Verb.CREATE,
        cause="c",
        duration=timedelta(seconds=1),
        error="busy",
        retrying=True,
    )
    assert level_of(ok) == logging.DEBUG
    assert level_of(failed) == logging.ERROR
    assert level_of(retrying) == logging.WARNING
    assert level_of(Converged(at=AT, services=3)) == logging.INFO


def test_an_exit_followed_by_a_restart_is_left_to_the_restarts_own_line() -> None:
    exit_ = TaskExited(
        at=AT, service="web", exit_code=1, oom_killed=False, outcome=ExitOutcome.RESTART
    )
    assert level_of(exit_) == logging.DEBUG


@pytest.mark.parametrize(
    ("outcome", "delay", "line"),
    [
        (ExitOutcome.BACKOFF, timedelta(seconds=2), "web exited with code 1; restarting in 2s"),
        (ExitOutcome.STAY, None, "web exited with code 1; left exited by its RESTART policy"),
        (ExitOutcome.COMPLETED, None, "web completed"),
    ],
)
def test_an_exit_says_what_follows_it(
    outcome: ExitOutcome, delay: timedelta | None, line: str
) -> None:
    entry = TaskExited(
        at=AT, service="web", exit_code=1, oom_killed=False, outcome=outcome, delay=delay
    )
    assert entry.line() == line


def test_an_oom_kill_is_named_as_such() -> None:
    entry = TaskExited(
        at=AT, service="hog", exit_code=137, oom_killed=True, outcome=ExitOutcome.STAY
    )
    assert entry.line() == "hog was oom-killed; left exited by its RESTART policy"


def test_a_listener_sees_every_entry_in_order_while_it_listens() -> None:
    journal = Journal(backlog=1)
    seen: list[object] = []
    with journal.listen(seen.append):
        for n in range(3):
            journal.publish(started(n))
    journal.publish(started(9))
    assert seen == [started(0), started(1), started(2)]


def test_a_failing_listener_is_logged_and_fails_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(entry: object) -> None:
        raise ValueError("a bug")

    journal = Journal()
    seen: list[object] = []
    with journal.listen(broken), journal.listen(seen.append):
        journal.publish(started(1))
    assert seen == [started(1)]
    assert any("a journal listener failed" in m for m in caplog.messages)
