"""Whether what a command prints may carry ANSI escapes: colours, progress bars, redraws.

Only on a terminal, and never when `NO_COLOR` is set to anything but the empty string
(no-color.org) or `TERM` is `dumb`: then the output is exactly what a pipe gets, only
fitted to the terminal's width. Why one decision for every escape and not colour alone:
a progress bar or a redraw without colour still fills a log or a screen reader with
control sequences, and whoever asked for no colour asked for plain text. Made here once
for every place rich draws (the status table, `status --watch`, `apply`'s bars); the
other commands (`events`, `plan`, `leak-check`, the log lines) print plain text always.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True, kw_only=True)
class Output:
    """Where a command writes: a terminal (rows fit its width) or not; escapes or not."""

    terminal: bool
    escapes: bool


PIPE = Output(terminal=False, escapes=False)


def output_for(stream: TextIO, environ: Mapping[str, str]) -> Output:
    terminal = _isatty(stream)
    plain = environ.get("NO_COLOR", "") != "" or environ.get("TERM", "") == "dumb"
    return Output(terminal=terminal, escapes=terminal and not plain)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method, or closed
        return False
