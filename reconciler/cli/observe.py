"""The commands that look at a project: `plan`, `status`, `events`.

`status` and `events` ask the `reconciler run` holding the project when there is one
(its live view, its journal); `plan` always plans for itself, changing nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, TextIO

from reconciler.cli import options
from reconciler.cli.terminal import PIPE, Output, output_for
from reconciler.errors import RuntimeUnavailable

if TYPE_CHECKING:
    from reconciler.app.loading import ProjectOptions
    from reconciler.model.status import StatusReport

PIPE_WIDTH: Final = 200
EXIT_PLAN_CHANGES: Final = 2
EXIT_NOT_CONVERGED: Final = 3
EXIT_ERROR: Final = 1


def add_commands(commands: options.Subparsers[argparse.ArgumentParser]) -> None:
    plan = commands.add_parser(
        "plan",
        help="print the actions apply would take",
        description=(
            "Print every action `apply` would take, in the order it takes them, each with "
            "its cause and what it waits for, and change nothing. Registry tags are looked "
            "up as `apply` would pull them (--offline: not). Exit 0 when there is nothing "
            "to do, 2 when changes are pending, 1 when a service would fail (its reason "
            "is printed) or the runtime cannot be asked."
        ),
    )
    _runtime_options(plan)
    plan.add_argument(
        "-o",
        "--output",
        choices=("text", "json"),
        default="text",
        help="output format (json: docs/plan.md)",
    )
    plan.add_argument(
        "--offline", action="store_true", help="do not ask registries whether tags moved"
    )
    plan.set_defaults(command=_plan)

    status = commands.add_parser(
        "status",
        help="desired against actual, per service",
        description=(
            "Show each service's desired and actual state, health (with the last check's "
            "result), restarts, drift and the reason for anything unsettled, plus leaks. "
            "The live view of the `reconciler run` holding the project when there is one. "
            "Exit 0 when converged, 3 when not, 1 when the runtime cannot be asked or (with "
            "no `run` to answer) the files cannot be used."
        ),
    )
    _runtime_options(status)
    status.add_argument(
        "-o",
        "--output",
        choices=("table", "wide", "json", "yaml"),
        default="table",
        help="output format (wide adds columns; json and yaml: docs/status.md)",
    )
    status.add_argument(
        "--watch", action="store_true", help="redraw every 2 seconds until interrupted"
    )
    status.set_defaults(command=_status)

    events = commands.add_parser(
        "events",
        help="follow what `reconciler run` does",
        description=(
            "Print what the `reconciler run` holding the project does and sees, as it "
            "happens: reloads and rejected saves, actions with their cause and duration, "
            "exits (OOM kills named), health changes, give-ups, the runtime lost and back. "
            "-o json prints one JSON object per line. Exit 0 on SIGINT or when `run` "
            "ends, 1 when no `run` holds the project."
        ),
    )
    _runtime_options(events)
    events.add_argument(
        "-o",
        "--output",
        choices=("text", "json"),
        default="text",
        help="output format (json: one event per line)",
    )
    events.set_defaults(command=_events)


def _runtime_options(parser: argparse.ArgumentParser) -> None:
    options.desired_state_options(parser, positional=False)
    options.project_options(parser)


def _plan(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from reconciler.app import operations
    from reconciler.cli import plan_output

    project = options.project(args)
    observed, projection = asyncio.run(operations.project_plan(project, offline=args.offline))
    if observed.unreachable and not projection.steps:
        raise RuntimeUnavailable("; ".join(observed.unreachable.values()))
    report = plan_output.PlanReport(
        project=str(observed.project),
        namespace=observed.namespace,
        projection=projection,
        registry_checked=not args.offline,
    )
    if args.offline:
        print("registry tags not checked (--offline)", file=sys.stderr)
    render = plan_output.render_json if args.output == "json" else plan_output.render_text
    out.write(render(report))
    if report.failing:
        return EXIT_ERROR
    return EXIT_PLAN_CHANGES if projection.changes or report.waiting else 0


def _status(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from reconciler.app import operations

    project = options.project(args)
    if args.watch:
        return _until_interrupted(lambda: _watch(project, args.output, out))
    report = asyncio.run(operations.project_status(project))
    out.write(render_status(report, args.output, shown=output_for(out, os.environ)))
    return status_exit(report)


def status_exit(report: StatusReport) -> int:
    """1 when the runtime or (with no `run` to answer) the files cannot be used."""
    if report.runtime_error or (not report.orchfile.valid and report.reconciler is None):
        return EXIT_ERROR
    return 0 if report.converged else EXIT_NOT_CONVERGED


async def _watch(project: ProjectOptions, output: str, out: TextIO) -> None:
    from reconciler.app import operations

    shown = output_for(out, os.environ)
    redraw = "\x1b[H\x1b[2J" if shown.escapes else ""  # else one report after another
    async for report in operations.watch_status(project):
        out.write(redraw + render_status(report, output, shown=shown))
        out.flush()


def render_status(report: StatusReport, output: str, *, shown: Output = PIPE) -> str:
    """The report as JSON, as YAML, or as a table (`wide` adds columns); colours only
    where escapes are welcome (`cli.terminal`), rows never wrapped off a terminal."""
    from rich.console import Console

    from reconciler.report import status_view

    if output == "json":
        return status_view.render_json(report)
    if output == "yaml":
        return status_view.render_yaml(report)
    console = Console(
        file=io.StringIO(),
        force_terminal=shown.escapes,
        no_color=not shown.escapes,
        width=None if shown.terminal else PIPE_WIDTH,
    )
    console.print(status_view.status_table(report, now=datetime.now(UTC), wide=output == "wide"))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return str(text)


def _events(args: argparse.Namespace, out: TextIO) -> int:
    from reconciler.app import operations
    from reconciler.report import journal_view

    project = options.project(args)
    render = journal_view.render_json if args.output == "json" else journal_view.render_text

    async def follow() -> None:
        lost = 0
        async for entry, dropped in operations.follow_events(project):
            if dropped > lost:
                print(journal_view.lost_line(dropped - lost), file=out)
                lost = dropped
            print(render(entry), file=out, flush=True)

    return _until_interrupted(follow)


def _until_interrupted(work: Callable[[], Awaitable[None]]) -> int:
    """Run `work` until it ends, SIGINT or SIGTERM; exit 0 either way."""
    import asyncio

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(work())
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return 0
