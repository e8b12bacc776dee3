"""What follows a task that stopped or a service that stopped being healthy. Pure.

After an exit the restart policy decides (`controllers.restart`): complete a oneshot,
stay exited, back off, restart now, or give up at the start limit, and the decision's
bookkeeping goes into the unit's labels. Liveness is the same question asked of a
running service that was healthy and then failed LIVENESS_FAILURES checks in a row; and a
service whose REQUIRES were started again is restarted after them (BindsTo).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconciler.controllers.actions import ExitNote, Start
from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.controllers.ledger import RESET_FAILED, PlanLedger
from reconciler.controllers.restart import (
    Bookkeeping,
    Completed,
    GiveUp,
    RestartAt,
    StayExited,
    decide_after_exit,
    exit_id,
)
from reconciler.controllers.statuses import Decision
from reconciler.model import labels
from reconciler.model.desired import DesiredService, Restart
from reconciler.model.journal import ExitOutcome
from reconciler.model.observed import ObservedUnit
from reconciler.model.status import Outlook, ServiceState


def plan_exit(
    ledger: PlanLedger,
    service: DesiredService,
    unit: ObservedUnit,
    book: Bookkeeping,
    *,
    failed: bool,
    reset: bool,
) -> None:
    task = unit.task
    assert task is not None
    assert task.exit_code is not None
    # containerd gives every stopped task its exit time; the start time stands in for
    # a runtime that does not, so the same exit is recognised pass after pass.
    exited_at = task.exited_at or ledger.started_at(unit) or ledger.inputs.now
    how = "oom-killed" if task.oom_killed else f"exit code {task.exit_code}"
    if failed:
        ledger.gave_up(service, f"start limit reached (last: {how})", since=exited_at)
        return
    decision, after = decide_after_exit(
        service,
        book,
        exit_code=task.exit_code,
        exited_at=exited_at,
        started_at=ledger.started_at(unit),
        config_hash=unit.config_hash,
        seen_as=exit_id(task.pid, task.exited_at),
    )
    recorded = {**after.exit_labels(), **(RESET_FAILED if reset else {})}
    note = _exit_note(decision, task.exit_code, task.oom_killed, service, ledger.inputs.now)
    if any(unit.labels.get(k) != v for k, v in recorded.items()):
        ledger.record(unit, recorded, how, note=note)
    match decision:
        case Completed():
            ledger.decide(
                service,
                Decision(state=ServiceState.COMPLETED, outlook=Outlook.SETTLED, since=exited_at),
            )
        case StayExited():
            ledger.decide(
                service,
                Decision(
                    state=ServiceState.EXITED,
                    outlook=Outlook.STUCK,
                    since=exited_at,
                    reason=f"{how}; not restarted ({policy(service)})",
                ),
            )
        case GiveUp(starts=starts):
            interval = service.restart.start_limit_interval
            ledger.gave_up(
                service,
                f"{how}; gave up after {starts} starts within {seconds(interval)}",
                since=exited_at,
            )
        case RestartAt():
            plan_restart(ledger, service, decision, how=how, exited_at=exited_at, reset=reset)


def plan_restart(
    ledger: PlanLedger,
    service: DesiredService,
    due: RestartAt,
    *,
    how: str,
    exited_at: datetime,
    reset: bool,
) -> None:
    when, delay = due.when, due.delay
    if when > ledger.inputs.now:
        ledger.requeue_at[service.name] = when
        left = (when - ledger.inputs.now).total_seconds()
        ledger.decide(
            service,
            Decision(
                state=ServiceState.BACKOFF,
                outlook=Outlook.WAITING,
                since=exited_at,
                backoff_until=when,
                reason=f"{how}; restarting in {left:.1f}s (delay {seconds(delay)})",
            ),
        )
        return
    cause = f"{how} ({policy(service)})"
    ledger.start_unless_blocked(
        service, Start(service=service.name, cause=cause, is_restart=True, reset_starts=reset)
    )


def plan_liveness(
    ledger: PlanLedger,
    service: DesiredService,
    unit: ObservedUnit,
    knowledge: ServiceKnowledge,
    since: datetime | None,
) -> None:
    """A service that was healthy failed LIVENESS_FAILURES checks in a row: its
    restart policy answers, as for a crash (start limit, RESTART_DELAY)."""
    assert knowledge.unhealthy_since is not None
    detail = knowledge.probe.detail if knowledge.probe is not None else "failing"
    what = f"unhealthy for {knowledge.failed_checks} checks ({detail})"
    if service.restart.policy is Restart.NO:
        reason = f"{what}; not restarted ({policy(service)})"
        ledger.still_running(service, Outlook.STUCK, reason, since)
        return
    book = Bookkeeping.from_labels(unit.labels)
    window_start = ledger.inputs.now - service.restart.start_limit_interval
    recent = [t for t in book.recent_starts if t >= window_start]
    if len(recent) >= service.restart.start_limit_burst:
        if book.failed_hash != unit.config_hash:
            ledger.record(unit, {labels.FAILED: unit.config_hash}, what)
        interval = seconds(service.restart.start_limit_interval)
        ledger.gave_up(
            service, f"{what}; gave up after {len(recent)} starts within {interval}", since
        )
        return
    when = knowledge.unhealthy_since + service.restart.delay
    if when > ledger.inputs.now:
        ledger.requeue_at[service.name] = when
        left = (when - ledger.inputs.now).total_seconds()
        ledger.still_running(service, Outlook.WAITING, f"{what}; restarting in {left:.1f}s", since)
        return
    cause = f"{what} ({policy(service)})"
    ledger.start_unless_blocked(
        service, Start(service=service.name, cause=cause, is_restart=True, stop_first=True)
    )


def plan_rebind(
    ledger: PlanLedger, service: DesiredService, restarted: list[str], since: datetime | None
) -> None:
    """What the service REQUIRES was started again: restart it after them, once they
    are ready (BindsTo); until then it keeps running."""
    names = ", ".join(restarted)
    cause = f"{names} {'was' if len(restarted) == 1 else 'were'} restarted"
    if ledger.blocker(service) is not None:
        ledger.still_running(service, Outlook.PROGRESSING, f"{cause}; restarting once ready", since)
        return
    ledger.act(
        service,
        Start(service=service.name, cause=cause, is_restart=True, stop_first=True),
    )


def _exit_note(
    decision: Completed | StayExited | GiveUp | RestartAt,
    code: int,
    oom: bool,
    service: DesiredService,
    now: datetime,
) -> ExitNote:
    match decision:
        case Completed():
            return ExitNote(exit_code=code, oom_killed=oom, outcome=ExitOutcome.COMPLETED)
        case StayExited():
            return ExitNote(exit_code=code, oom_killed=oom, outcome=ExitOutcome.STAY)
        case GiveUp(starts=starts):
            return ExitNote(
                exit_code=code,
                oom_killed=oom,
                outcome=ExitOutcome.GAVE_UP,
                starts=starts,
                interval=service.restart.start_limit_interval,
            )
        case RestartAt(when=when, delay=delay):
            later = when > now
            return ExitNote(
                exit_code=code,
                oom_killed=oom,
                outcome=ExitOutcome.BACKOFF if later else ExitOutcome.RESTART,
                delay=delay if later else None,
            )


def policy(service: DesiredService) -> str:
    return f"RESTART {service.restart.policy.value}"


def seconds(span: timedelta) -> str:
    return f"{span.total_seconds():g}s"
