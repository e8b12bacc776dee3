"""Durations, sizes and CPU amounts as users write them, parsed into typed values.

The Orch document keeps `90s`, `512M` and `150%` as written; the runtime needs seconds,
bytes and cores. Each parser raises `UnitError` with a short reason, which the semantic
layer turns into a located error naming the service and directive.

- Durations: one or more `<number><unit>` terms, units `ms`, `s`, `m`, `h`, `d`
  (`1m30s`, `1.5s`, `500ms`); a bare number is seconds (`90`), as systemd reads it.
- Sizes: a number with an optional binary unit `K`, `M`, `G`, `T` (also `KB`/`KiB`...,
  any case) as Docker reads `--memory`; a bare number is bytes.
- CPU quota: a percentage of one core, `50%`, `200%`.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal
from typing import Final

_DURATION_TERM: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(ms|s|m|h|d)")
_DURATION_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_BARE_NUMBER: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_SIZE: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(i?b)?", re.IGNORECASE)
_SIZE_UNITS: Final = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_PERCENT: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)%")
MAX_DURATION: Final = timedelta(days=365)


class UnitError(ValueError):
    """A value that does not parse as the unit it should be."""


def parse_duration(text: str) -> timedelta:
    value = text.strip()
    if _BARE_NUMBER.fullmatch(value):
        seconds = float(value)
    else:
        position, seconds = 0, 0.0
        for match in _DURATION_TERM.finditer(value):
            if match.start() != position:
                break
            seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            position = match.end()
        if position != len(value) or not value:
            raise UnitError("is not a duration (use e.g. 500ms, 90s, 2m, 1h)")
    if seconds > MAX_DURATION.total_seconds():
        raise UnitError("is longer than a year")
    return timedelta(seconds=seconds)


def parse_size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise UnitError("is not a size (use e.g. 512M, 4G, or bytes)")
    # Decimal, not float: a number of hundreds of digits is too large, not infinite.
    number, unit = Decimal(match.group(1)), match.group(2).lower()
    return int(number * _SIZE_UNITS[unit])


def format_size(size: int) -> str:
    """`6M`, `8388607T`: the largest unit of which the size holds a whole number
    (rounded down), for messages about ranges."""
    for suffix in ("T", "G", "M", "K"):
        unit = _SIZE_UNITS[suffix.lower()]
        if size >= unit:
            return f"{size // unit}{suffix}"
    return str(size)


def parse_percent(text: str) -> float:
    """`150%` → 1.5 (cores)."""
    match = _PERCENT.fullmatch(text.strip())
    if match is None:
        raise UnitError("is not a percentage (use e.g. 50% or 200%)")
    return float(match.group(1)) / 100


def check_cpus(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise UnitError("must be a positive number of cores")
    return value


def format_duration(duration: timedelta) -> str:
    """A compact exact form: `250ms`, `1500ms`, `2m`, `1m30s`, `1h30m`."""
    total_ms = round(duration.total_seconds() * 1000)
    if total_ms % 1000:
        return f"{total_ms}ms"
    seconds = total_ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return "".join(parts) or "0s"
