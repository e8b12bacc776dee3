"""The planner and the restart policy over passes: exits, backoff in virtual time, start
limits, oneshot memory. Each pass sees the labels the previous pass recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

from reconciler.clock import VIRTUAL_EPOCH as EPOCH
from reconciler.controllers.actions import Record, Recreate, Start
from reconciler.controllers.plan import Plan
from reconciler.model import labels
from reconciler.model.desired import DesiredService, Restart
from reconciler.model.observed import ObservedUnit
from reconciler.model.status import ServiceState, Verb
from tests.support.desired import restart, service, stack
from tests.support.planning import exited, make_plan, running, status, unit, with_labels

SECOND = timedelta(seconds=1)


def recorded(result: Plan, observed: ObservedUnit) -> ObservedUnit:
    """The unit as observed after the plan's `Record` actions ran."""
    for action in result.actions:
        if isinstance(action, Record):
            observed = with_labels(observed, action.labels)
    return observed


def settle(
    svc: DesiredService, observed: ObservedUnit, now: datetime, **kwargs: bool
) -> tuple[Plan, ObservedUnit]:
    """Plan, apply the recorded labels, plan again: what a pass converges to."""
    first = make_plan(stack(svc), observed, now=now, **kwargs)
    return make_plan(stack(svc), recorded(first, observed), now=now), recorded(first, observed)


def test_restart_no_leaves_an_exited_service_exited_and_records_its_exit_code() -> None:
    web = service("web", restart=restart(Restart.NO))
    observed = unit(web, task=exited(3))

    result = make_plan(stack(web), observed, now=EPOCH + SECOND)

    (action,) = result.actions
    assert isinstance(action, Record)
    assert action.labels[labels.LAST_EXIT_CODE] == "3"
    assert status(result, "web").state is ServiceState.EXITED
    assert status(result, "web").exit_code == 3


def test_recording_an_exit_once_is_enough_the_next_pass_does_nothing() -> None:
    web = service("web", restart=restart(Restart.NO))

    again, _ = settle(web, unit(web, task=exited(3)), EPOCH + SECOND)

    assert again.actions == ()
    assert status(again, "web").state is ServiceState.EXITED


def test_on_failure_with_a_clean_exit_stays_exited() -> None:
    web = service("web", restart=restart(Restart.ON_FAILURE))

    again, _ = settle(web, unit(web, task=exited(0)), EPOCH + SECOND)

    assert again.actions == ()
    assert status(again, "web").state is ServiceState.EXITED


def test_a_crash_backs_off_for_restart_delay_then_restarts() -> None:
    web = service("web", restart=restart(Restart.ON_FAILURE, delay=2))
    crash_at = EPOCH + 5 * SECOND

    waiting, observed = settle(web, unit(web, task=exited(1, at=crash_at)), crash_at)
    due = make_plan(stack(web), observed, now=crash_at + 2 * SECOND)

    assert waiting.actions == ()
    assert status(waiting, "web").state is ServiceState.BACKOFF
    assert waiting.requeue_at == {"web": crash_at + 2 * SECOND}
    assert due.actions == (
        Start(service=web.name, cause="exit code 1 (RESTART on-failure)", is_restart=True),
    )


def test_passes_while_backing_off_do_not_lengthen_the_backoff() -> None:
    web = service("web", restart=restart(Restart.ALWAYS, delay=1))
    observed = unit(web, task=exited(1, at=EPOCH))
    plans = []
    for tick in range(4):
        result = make_plan(stack(web), observed, now=EPOCH + tick * SECOND / 4)
        observed = recorded(result, observed)
        plans.append(result)

    assert [p.requeue_at.get("web") for p in plans] == [EPOCH + SECOND] * 4
    assert [type(a) for p in plans for a in p.actions] == [Record]


def test_restart_always_restarts_a_clean_exit_too() -> None:
    web = service("web", restart=restart(Restart.ALWAYS, delay=1))

    _, observed = settle(web, unit(web, task=exited(0)), EPOCH)
    due = make_plan(stack(web), observed, now=EPOCH + SECOND)

    assert [type(a) for a in due.actions] == [Start]


def test_a_crash_streak_doubles_the_next_delay() -> None:
    web = service("web", restart=restart(Restart.ALWAYS, delay=1))
    streak_of_two = {labels.CRASH_STREAK: "2"}
    observed = unit(web, task=exited(1, at=EPOCH, pid=7), extra=streak_of_two)

    result = make_plan(stack(web), observed, now=EPOCH)

    assert result.requeue_at == {"web": EPOCH + 4 * SECOND}


def start_limited(*, burst: int = 3) -> DesiredService:
    return service("web", restart=restart(Restart.ALWAYS, delay=1, burst=burst, interval=60))


def starts(*seconds: int) -> dict[str, str | None]:
    return {
        labels.RECENT_STARTS: ",".join(f"{(EPOCH + s * SECOND).timestamp():.3f}" for s in seconds)
    }


def test_burst_starts_within_the_interval_fail_the_service() -> None:
    web = start_limited()
    observed = unit(web, task=exited(1, at=EPOCH + 5 * SECOND), extra=starts(0, 2, 4))

    result = make_plan(stack(web), observed, now=EPOCH + 5 * SECOND)

    assert [type(a) for a in result.actions] == [Record]
    assert status(result, "web").state is ServiceState.FAILED
    assert status(result, "web").reason == "exit code 1; gave up after 3 starts within 60s"


def test_a_failed_service_stays_failed_across_passes_and_time() -> None:
    web = start_limited()
    observed = unit(web, task=exited(1, at=EPOCH + 5 * SECOND), extra=starts(0, 2, 4))

    _, observed = settle(web, observed, EPOCH + 5 * SECOND)
    much_later = make_plan(stack(web), observed, now=EPOCH + timedelta(hours=1))

    assert much_later.actions == ()
    assert status(much_later, "web").state is ServiceState.FAILED


def test_apply_resets_a_failed_service_and_it_starts_again() -> None:
    web = start_limited()
    observed = unit(web, task=exited(1, at=EPOCH + 5 * SECOND), extra=starts(0, 2, 4))
    _, observed = settle(web, observed, EPOCH + 5 * SECOND)

    result = make_plan(stack(web), observed, now=EPOCH + 6 * SECOND, reset_failed=True)

    assert [type(a) for a in result.actions] == [Record, Start]
    reset = result.actions[0]
    assert isinstance(reset, Record)
    assert reset.labels[labels.FAILED] is None
    assert isinstance(result.actions[1], Start)
    assert result.actions[1].reset_starts
    assert status(result, "web").planned is Verb.RESTART


def test_a_config_change_clears_the_failed_state_by_recreating() -> None:
    web = start_limited()
    observed = unit(web, task=exited(1, at=EPOCH + 5 * SECOND), extra=starts(0, 2, 4))
    _, observed = settle(web, observed, EPOCH + 5 * SECOND)
    changed = service("web", restart=web.restart, cmd=("other",))

    result = make_plan(stack(changed), observed, now=EPOCH + 6 * SECOND)

    assert [type(a) for a in result.actions] == [Recreate]


def test_a_completed_oneshot_is_remembered_and_not_rerun() -> None:
    job = service("job", oneshot=True, restart=restart(Restart.ALWAYS))

    again, observed = settle(job, unit(job, task=exited(0)), EPOCH + SECOND)

    assert observed.labels[labels.COMPLETED] == observed.config_hash
    assert again.actions == ()
    assert status(again, "job").state is ServiceState.COMPLETED
    assert again.converged


def test_a_completed_oneshot_whose_task_is_gone_is_still_completed() -> None:
    job = service("job", oneshot=True)
    _, observed = settle(job, unit(job, task=exited(0)), EPOCH + SECOND)
    from dataclasses import replace

    result = make_plan(stack(job), replace(observed, task=None), now=EPOCH + 2 * SECOND)

    assert result.actions == ()
    assert status(result, "job").state is ServiceState.COMPLETED


def test_a_completed_oneshot_runs_again_once_its_config_changes() -> None:
    job = service("job", oneshot=True)
    _, observed = settle(job, unit(job, task=exited(0)), EPOCH + SECOND)
    changed = service("job", oneshot=True, env={"V": "2"})

    result = make_plan(stack(changed), observed, now=EPOCH + 2 * SECOND)

    assert [(type(a), a.cause) for a in result.actions] == [(Recreate, "config changed (ENV V)")]


def test_a_failed_oneshot_follows_restart() -> None:
    job = service("job", oneshot=True, restart=restart(Restart.ON_FAILURE, delay=1))

    _, observed = settle(job, unit(job, task=exited(2)), EPOCH)
    due = make_plan(stack(job), observed, now=EPOCH + SECOND)

    assert labels.COMPLETED not in observed.labels
    assert [type(a) for a in due.actions] == [Start]


def test_a_running_service_records_nothing() -> None:
    web = service("web", restart=restart(Restart.ALWAYS))

    result = make_plan(stack(web), unit(web, task=running()), now=EPOCH + timedelta(hours=1))

    assert result.actions == ()


def test_after_apply_resets_a_failed_service_a_later_pass_does_not_fail_it_again() -> None:
    web = start_limited()
    observed = unit(web, task=exited(1, at=EPOCH + 5 * SECOND), extra=starts(0, 2, 4))
    _, observed = settle(web, observed, EPOCH + 5 * SECOND)
    crash_streak_4 = {labels.CRASH_STREAK: "4"}
    observed = with_labels(observed, crash_streak_4)

    reset = make_plan(stack(web), observed, now=EPOCH + 6 * SECOND, reset_failed=True)
    observed = recorded(reset, observed)
    next_pass = make_plan(stack(web), observed, now=EPOCH + 7 * SECOND)

    assert observed.labels[labels.RECENT_STARTS] == ""
    assert status(reset, "web").state is ServiceState.BACKOFF
    assert status(next_pass, "web").state is ServiceState.BACKOFF
