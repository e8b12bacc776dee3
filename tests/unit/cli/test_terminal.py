"""Plain output where escapes are unwelcome: off a terminal, with NO_COLOR set to anything
non-empty, or on a dumb terminal; and the status table keeps to that decision."""

from __future__ import annotations

import io

import pytest

from reconciler.cli.observe import render_status
from reconciler.cli.terminal import PIPE, Output, output_for
from reconciler.model.desired import ServiceMode
from reconciler.model.status import (
    DesiredState,
    OrchfileStatus,
    ServiceState,
    ServiceStatus,
    StatusReport,
)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Closed(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


@pytest.mark.parametrize(
    ("environ", "escapes"),
    [
        ({}, True),
        ({"TERM": "xterm-256color"}, True),
        ({"NO_COLOR": ""}, True),  # set but empty: no-color.org says it does not count
        ({"NO_COLOR": "1"}, False),
        ({"NO_COLOR": "false"}, False),  # any value
        ({"TERM": "dumb"}, False),
    ],
)
def test_a_terminal_takes_escapes_unless_no_color_or_dumb(
    environ: dict[str, str], escapes: bool
) -> None:
    assert output_for(Tty(), environ) == Output(terminal=True, escapes=escapes)


def test_a_pipe_or_a_closed_stream_never_takes_escapes() -> None:
    assert output_for(io.StringIO(), {}) == PIPE
    assert output_for(Closed(), {}) == PIPE


REPORT = StatusReport(
    project="demo",
    namespace="orch",
    converged=False,
    orchfile=OrchfileStatus(files=("Orchfile",), valid=True),
    services=(
        ServiceStatus(
            name="web",
            mode=ServiceMode.CONTAINER,
            desired=DesiredState.RUNNING,
            state=ServiceState.FAILED,
            reason="exited with code 3",
        ),
    ),
)


@pytest.mark.parametrize("output", ["table", "wide"])
def test_the_status_table_is_plain_text_unless_escapes_are_welcome(
    output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")  # rich picks its colours from it
    coloured = render_status(REPORT, output, shown=Output(terminal=True, escapes=True))
    no_color = render_status(REPORT, output, shown=Output(terminal=True, escapes=False))
    piped = render_status(REPORT, output, shown=PIPE)

    assert "\x1b[" in coloured
    assert "\x1b[" not in no_color
    assert "\x1b[" not in piped
    assert "failed" in no_color
