"""What happens after a service's process exits: restart, wait, give up or call it done.

Pure, with time passed in, so restart and backoff sequences are tested in virtual time.
The bookkeeping it reads and writes lives in the unit's labels (`Bookkeeping`), so a
restarted reconciler, or `status` in another process, sees the same counts.

- RESTART no: never restarted; on-failure: restarted when the exit code is not 0;
  always: restarted whatever the code. A ONESHOT that exits 0 is *completed* and stays
  so (for its config hash) across reconciler restarts; a failed oneshot follows RESTART.
- Delay: RESTART_DELAY, doubled for each consecutive crash, capped at 5 minutes; the
  streak starts over once a run lasted 10 minutes.
- START_LIMIT_BURST starts within START_LIMIT_INTERVAL, and the next one would exceed it:
  the service is *failed*, and left alone until its configuration changes or `apply`.

One exit is counted once: the planner looks at the same stopped task on every pass until
it is restarted, so the bookkeeping names the exit it has counted (`exit_seen`) and a
later decision about that same exit does not grow the crash streak again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

from reconciler.model import labels
from reconciler.model.desired import DesiredService, Restart

MAX_BACKOFF: Final = timedelta(minutes=5)
STABLE_RUN: Final = timedelta(minutes=10)


@dataclass(frozen=True, kw_only=True)
class Bookkeeping:
    """Per-service counters kept in labels; absent labels read as a fresh service."""

    restart_count: int = 0
    last_exit_code: int | None = None
    crash_streak: int = 0
    recent_starts: tuple[datetime, ...] = ()
    completed_hash: str | None = None
    failed_hash: str | None = None
    exit_seen: str | None = None

    @classmethod
    def from_labels(cls, source: Mapping[str, str]) -> Bookkeeping:
        def integer(key: str) -> int | None:
            text = source.get(key, "")
            return int(text) if text.lstrip("-").isdigit() else None

        starts = tuple(
            datetime.fromtimestamp(float(t), UTC)
            for t in source.get(labels.RECENT_STARTS, "").split(",")
            if _is_number(t)
        )
        return cls(
            restart_count=integer(labels.RESTART_COUNT) or 0,
            last_exit_code=integer(labels.LAST_EXIT_CODE),
            crash_streak=integer(labels.CRASH_STREAK) or 0,
            recent_starts=starts,
            completed_hash=source.get(labels.COMPLETED) or None,
            failed_hash=source.get(labels.FAILED) or None,
            exit_seen=source.get(labels.EXIT_SEEN) or None,
        )

    def to_labels(self) -> dict[str, str | None]:
        """Labels to set (None removes one)."""
        return {**self.start_labels(), **self.exit_labels()}

    def start_labels(self) -> dict[str, str | None]:
        """The labels a start changes (written by whoever starts)."""
        return {
            labels.RESTART_COUNT: str(self.restart_count),
            labels.RECENT_STARTS: ",".join(f"{t.timestamp():.3f}" for t in self.recent_starts),
        }

    def exit_labels(self) -> dict[str, str | None]:
        """The labels a decision about an exit changes (written by the planner's `Record`);
        disjoint from `start_labels`, so the two writers never undo each other."""
        return {
            labels.LAST_EXIT_CODE: None
            if self.last_exit_code is None
            else str(self.last_exit_code),
            labels.CRASH_STREAK: str(self.crash_streak),
            labels.COMPLETED: self.completed_hash,
            labels.FAILED: self.failed_hash,
            labels.EXIT_SEEN: self.exit_seen,
        }


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, kw_only=True)
class Completed:
    """A oneshot finished successfully: not run again for this configuration."""


@dataclass(frozen=True, kw_only=True)
class StayExited:
    """The policy does not restart this exit."""


@dataclass(frozen=True, kw_only=True)
class GiveUp:
    """Too many starts within START_LIMIT_INTERVAL: the service is failed."""

    starts: int


@dataclass(frozen=True, kw_only=True)
class RestartAt:
    when: datetime
    delay: timedelta


ExitDecision = Completed | StayExited | GiveUp | RestartAt


def backoff(base: timedelta, streak: int) -> timedelta:
    """RESTART_DELAY doubled per consecutive crash beyond the first, capped at 5 min."""
    if streak <= 1:
        return min(base, MAX_BACKOFF)
    doubled: timedelta = base * (2 ** min(streak - 1, 20))
    return min(doubled, MAX_BACKOFF)


def exit_id(pid: int, exited_at: datetime | None) -> str:
    """Names one exit of one process, for `Bookkeeping.exit_seen`."""
    return f"{pid}@{exited_at.timestamp():.3f}" if exited_at is not None else str(pid)


def decide_after_exit(
    service: DesiredService,
    book: Bookkeeping,
    *,
    exit_code: int,
    exited_at: datetime,
    started_at: datetime | None,
    config_hash: str,
    seen_as: str | None = None,
) -> tuple[ExitDecision, Bookkeeping]:
    """The decision for one observed exit, and the bookkeeping to store with it.
    `seen_as` names the exit (`exit_id`); deciding again about an exit the bookkeeping
    has already counted gives the same decision."""
    ran = exited_at - started_at if started_at is not None else timedelta(0)
    if seen_as is not None and book.exit_seen == seen_as:
        streak = book.crash_streak
    else:
        streak = 1 if ran >= STABLE_RUN else book.crash_streak + 1
    book = replace(book, last_exit_code=exit_code, crash_streak=streak, exit_seen=seen_as)
    if service.oneshot and exit_code == 0:
        return Completed(), replace(book, completed_hash=config_hash, crash_streak=0)
    policy = service.restart.policy
    if policy is Restart.NO or (policy is Restart.ON_FAILURE and exit_code == 0):
        return StayExited(), book
    window_start = exited_at - service.restart.start_limit_interval
    recent = tuple(t for t in book.recent_starts if t >= window_start)
    if len(recent) >= service.restart.start_limit_burst:
        return GiveUp(starts=len(recent)), replace(book, failed_hash=config_hash)
    delay = backoff(service.restart.delay, streak)
    return RestartAt(when=exited_at + delay, delay=delay), book


def record_start(
    service: DesiredService, book: Bookkeeping, *, at: datetime, is_restart: bool
) -> Bookkeeping:
    """Bookkeeping after a start: the start joins the window, restarts are counted."""
    keep = service.restart.start_limit_burst
    recent = (*book.recent_starts, at)[-keep:]
    return replace(
        book,
        recent_starts=recent,
        restart_count=book.restart_count + (1 if is_restart else 0),
    )
