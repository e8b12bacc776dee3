"""How much of each service's output is kept: a size per file and a number of files.

`max_size` is the size at which the live file is rotated, and the largest a rotated
file ever is; `max_files` counts the live file too (docker's `max-size`/`max-file`), so
one stream keeps at most `max_size * max_files` bytes, plus what it writes between two
checks of the live file (docs/logs.md). The defaults, 10M x 3, are docker's advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reconciler.model.units import UnitError, format_size, parse_size

# A rotation cuts whole filesystem blocks off the live file's head: it needs a few.
MIN_SIZE: Final = 64 << 10
MAX_SIZE: Final = 1 << 40
MAX_FILES: Final = 1000


@dataclass(frozen=True, kw_only=True)
class LogLimits:
    max_size: int
    max_files: int

    @property
    def rotated_files(self) -> int:
        """How many rotated files (`<log>.1`, `<log>.2`...) are kept beside the live one."""
        return self.max_files - 1

    def describe(self) -> str:
        return f"{format_size(self.max_size)} x {self.max_files}"


DEFAULT_LOG_LIMITS: Final = LogLimits(max_size=10 << 20, max_files=3)


def parse_max_size(text: str) -> int:
    """`10M`, `512K`, `1G` or bytes; raises `UnitError` with what is wrong."""
    size = parse_size(text)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise UnitError(f"must be between {format_size(MIN_SIZE)} and {format_size(MAX_SIZE)}")
    return size


def parse_max_files(text: str) -> int:
    """A whole number of files, the live one included: 1 keeps no rotated file."""
    stripped = text.strip()
    if not stripped.isdigit():
        raise UnitError("is not a whole number of files")
    count = int(stripped)
    if not 1 <= count <= MAX_FILES:
        raise UnitError(f"must be between 1 and {MAX_FILES}")
    return count
