"""How `logs` prints a line: the time first with `--timestamps`, then, when more than one
service is shown, the service's name padded to the longest (`web   | ...`, as compose
does), then the line as the service wrote it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from reconciler.model.units import format_size


def prefix_width(names: Iterable[str]) -> int:
    """The width of the name column; 0 (no column) for one service."""
    shown = list(names)
    return max(len(name) for name in shown) if len(shown) > 1 else 0


def timestamp(at_ns: int) -> str:
    """UTC, to the millisecond: `2024-05-01T12:00:00.123Z`."""
    moment = datetime.fromtimestamp(at_ns / 1e9, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def render_line(text: str, *, name: str, width: int, at_ns: int | None) -> str:
    parts = []
    if at_ns is not None:
        parts.append(timestamp(at_ns) + " ")
    if width:
        parts.append(f"{name:<{width}} | ")
    parts.append(text)
    return "".join(parts)


def gap_notice(name: str, size: int) -> str:
    """What a follower says when it was too slow for the logs' limits."""
    amount = format_size(size) if size >= 1024 else f"{size} bytes"
    return (
        f"logs: {name}: {amount} rotated away before it was read (more than "
        "--log-max-size x --log-max-files behind)"
    )
