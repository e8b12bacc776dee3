"""The restart policy, pure: what an exit leads to, the backoff sequence, start limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.clock import VIRTUAL_EPOCH as EPOCH
from reconciler.controllers.restart import (
    MAX_BACKOFF,
    Bookkeeping,
    Completed,
    ExitDecision,
    GiveUp,
    RestartAt,
    StayExited,
    backoff,
    decide_after_exit,
    record_start,
)
from reconciler.model.desired import Restart
from tests.support.desired import restart, service

SECOND = timedelta(seconds=1)


def decide(
    policy: Restart, code: int, *, oneshot: bool = False, book: Bookkeeping | None = None
) -> tuple[ExitDecision, Bookkeeping]:
    svc = service("web", restart=restart(policy), oneshot=oneshot)
    return decide_after_exit(
        svc,
        book or Bookkeeping(),
        exit_code=code,
        exited_at=EPOCH + SECOND,
        started_at=EPOCH,
        config_hash="h1",
    )


@pytest.mark.parametrize("code", [0, 1, 137])
def test_restart_no_never_restarts(code: int) -> None:
    decision, book = decide(Restart.NO, code)

    assert decision == StayExited()
    assert book.last_exit_code == code


def test_restart_on_failure_leaves_a_clean_exit_alone() -> None:
    assert decide(Restart.ON_FAILURE, 0)[0] == StayExited()


@pytest.mark.parametrize("code", [1, 2, 143])
def test_restart_on_failure_restarts_a_non_zero_exit_after_the_delay(code: int) -> None:
    decision, _ = decide(Restart.ON_FAILURE, code)

    assert decision == RestartAt(when=EPOCH + 2 * SECOND, delay=SECOND)


@pytest.mark.parametrize("code", [0, 1])
def test_restart_always_restarts_whatever_the_code(code: int) -> None:
    assert isinstance(decide(Restart.ALWAYS, code)[0], RestartAt)


def test_a_oneshot_that_succeeds_is_completed_for_its_config_hash() -> None:
    decision, book = decide(Restart.ALWAYS, 0, oneshot=True)

    assert decision == Completed()
    assert book.completed_hash == "h1"
    assert book.to_labels()["orch.completed"] == "h1"


def test_a_failed_oneshot_follows_its_restart_policy() -> None:
    assert isinstance(decide(Restart.ON_FAILURE, 3, oneshot=True)[0], RestartAt)
    assert decide(Restart.NO, 3, oneshot=True)[0] == StayExited()


def test_the_delay_doubles_per_consecutive_crash_up_to_five_minutes() -> None:
    base = timedelta(seconds=10)

    delays = [backoff(base, streak).total_seconds() for streak in range(1, 9)]

    assert delays == [10, 20, 40, 80, 160, 300, 300, 300]
    assert backoff(timedelta(minutes=10), 1) == MAX_BACKOFF


def test_the_streak_grows_with_each_quick_crash_and_sets_the_delay() -> None:
    svc = service("web", restart=restart(Restart.ALWAYS, delay=1, burst=100, interval=1))
    book, started, delays = Bookkeeping(), EPOCH, []
    for _ in range(5):
        exited = started + SECOND
        decision, book = decide_after_exit(
            svc, book, exit_code=1, exited_at=exited, started_at=started, config_hash="h"
        )
        assert isinstance(decision, RestartAt)
        delays.append(decision.delay.total_seconds())
        started = decision.when
        book = record_start(svc, book, at=started, is_restart=True)

    assert delays == [1, 2, 4, 8, 16]
    assert book.restart_count == 5


def test_ten_minutes_of_stable_running_resets_the_backoff() -> None:
    svc = service("web", restart=restart(Restart.ALWAYS, delay=1))
    book = Bookkeeping(crash_streak=6)

    decision, after = decide_after_exit(
        svc,
        book,
        exit_code=1,
        exited_at=EPOCH + timedelta(minutes=10),
        started_at=EPOCH,
        config_hash="h",
    )

    assert decision == RestartAt(when=EPOCH + timedelta(minutes=10, seconds=1), delay=SECOND)
    assert after.crash_streak == 1


def test_burst_starts_within_the_interval_give_up_and_mark_the_config_failed() -> None:
    svc = service("web", restart=restart(Restart.ALWAYS, burst=3, interval=10))
    starts = (EPOCH, EPOCH + 2 * SECOND, EPOCH + 5 * SECOND)

    decision, book = decide_after_exit(
        svc,
        Bookkeeping(recent_starts=starts),
        exit_code=1,
        exited_at=EPOCH + 6 * SECOND,
        started_at=EPOCH + 5 * SECOND,
        config_hash="h",
    )

    assert decision == GiveUp(starts=3)
    assert book.failed_hash == "h"


def test_starts_older_than_the_interval_do_not_count() -> None:
    svc = service("web", restart=restart(Restart.ALWAYS, burst=3, interval=10))
    starts = (EPOCH, EPOCH + 2 * SECOND, EPOCH + 5 * SECOND)

    decision, _ = decide_after_exit(
        svc,
        Bookkeeping(recent_starts=starts),
        exit_code=1,
        exited_at=EPOCH + 11 * SECOND,
        started_at=EPOCH + 5 * SECOND,
        config_hash="h",
    )

    assert isinstance(decision, RestartAt)


def test_bookkeeping_round_trips_through_labels() -> None:
    book = Bookkeeping(
        restart_count=3,
        last_exit_code=2,
        crash_streak=2,
        recent_starts=(EPOCH, EPOCH + SECOND),
        completed_hash=None,
        failed_hash="h",
    )
    stored = {k: v for k, v in book.to_labels().items() if v is not None}

    assert Bookkeeping.from_labels(stored) == book


def test_record_start_keeps_only_the_last_burst_starts_and_counts_restarts() -> None:
    svc = service("web", restart=restart(Restart.ALWAYS, burst=2))
    book = Bookkeeping()
    for second in range(3):
        book = record_start(svc, book, at=EPOCH + second * SECOND, is_restart=second > 0)

    assert book.recent_starts == (EPOCH + SECOND, EPOCH + 2 * SECOND)
    assert book.restart_count == 2
