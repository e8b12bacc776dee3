"""`events -o text|json`: one line per entry, JSON with the entry's typed fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from reconciler.model.journal import ActionFinished, ExitOutcome, TaskExited, kind_of
from reconciler.model.status import Verb
from reconciler.report.journal_view import entry_tree, render_json

AT = datetime(2026, 11, 29, 17, 20, 0, tzinfo=UTC)


def test_json_names_the_kind_every_field_and_the_sentence() -> None:
    entry = ActionFinished(
        at=AT,
        service="web",
        verb=Verb.RECREATE,
        cause="config changed (ENV MODE)",
        duration=timedelta(seconds=1.25),
    )
    assert json.loads(render_json(entry)) == {
        "time": "2026-11-29T17:20:00Z",
        "kind": "action-finished",
        "service": "web",
        "verb": "recreate",
        "cause": "config changed (ENV MODE)",
        "duration": 1.25,
        "error": None,
        "retrying": False,
        "line": "recreate web: done in 1.2s",
    }


def test_an_exit_says_whether_it_was_an_oom_kill() -> None:
    entry = TaskExited(
        at=AT, service="hog", exit_code=137, oom_killed=True, outcome=ExitOutcome.STAY
    )
    tree = entry_tree(entry)
    assert (tree["kind"], tree["oom_killed"], tree["outcome"]) == ("task-exited", True, "stay")
    assert kind_of(entry) == "task-exited"
