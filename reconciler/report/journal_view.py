"""`reconciler events -o text|json`: journal entries as lines for people and for scripts.

Text is `HH:MM:SS` (local time) and the entry's own sentence, as `run` logs it. JSON is
one object per line: `time` (RFC 3339, UTC), `kind` (the entry's type in kebab-case),
every field of the entry (enums by their value, durations in seconds) and `line`, the
sentence. A reader that fell behind is told how many entries it lost.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import datetime, timedelta
from typing import Any

from reconciler.model.journal import Entry, kind_of
from reconciler.report.status_view import rfc3339


def entry_tree(entry: Entry) -> dict[str, Any]:
    tree: dict[str, Any] = {"time": rfc3339(entry.at), "kind": kind_of(entry)}
    for field in dataclasses.fields(entry):
        if field.name != "at":
            tree[field.name] = _plain(getattr(entry, field.name))
    tree["line"] = entry.line()
    return tree


def render_json(entry: Entry) -> str:
    return json.dumps(entry_tree(entry), ensure_ascii=False)


def render_text(entry: Entry) -> str:
    return f"{entry.at.astimezone().strftime('%H:%M:%S')} {entry.line()}"


def lost_line(dropped: int) -> str:
    return f"({dropped} event(s) lost: this reader fell behind)"


def _plain(value: Any) -> Any:
    match value:
        case enum.Enum():
            return value.value
        case timedelta():
            return round(value.total_seconds(), 3)
        case datetime():
            return rfc3339(value)
        case tuple() | list():
            return [_plain(v) for v in value]
        case _:
            return value
