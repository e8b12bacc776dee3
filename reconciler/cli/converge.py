"""The commands that change a project: `run`, `apply`, `restart`, `down`.

Each goes through the `reconciler run` that holds the project when there is one (it is
the project's one writer), and works directly, under the project lock, when there is
none; `app.operations` decides which. Here: flags, what is printed, exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Final, TextIO

from reconciler.cli import options
from reconciler.cli.terminal import output_for
from reconciler.errors import RuntimeUnavailable, UsageError

if TYPE_CHECKING:
    from reconciler.app.metrics.address import ListenAddress
    from reconciler.app.results import ApplyResult, DownResult

DEFAULT_APPLY_TIMEOUT: Final = "10m"
DEFAULT_RESTART_TIMEOUT: Final = "5m"
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
METRICS_VARIABLE: Final = "RECONCILER_METRICS_ADDRESS"


def add_commands(commands: options.Subparsers[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run",
        help="converge, then keep converging (watch the Orchfile)",
        description=(
            "Converge, then keep containerd matching the Orchfile: on every finished save "
            "of the Orchfile, an overlay or an ENV_FILE, on every containerd event, when a "
            "backoff is due, and every 30 seconds. While it runs it is the project's one "
            "writer: status, apply, restart, down and events talk to it over a root-only "
            "socket under the state dir. An invalid save is reported and the last good state "
            "stays in force; a save that would remove every service is held until `apply` "
            "or `down` confirms. SIGINT or SIGTERM stop it and leave the services running "
            "(exit 0); `down` stops everything and ends it (exit 0). Under systemd "
            "(Type=notify) it says when it is ready, what it sees, and pings the watchdog."
        ),
    )
    _runtime_options(run)
    run.add_argument(
        "--metrics-address",
        metavar="HOST:PORT",
        help="serve Prometheus metrics on http://HOST:PORT/metrics; a port alone binds "
        "127.0.0.1 (default: $RECONCILER_METRICS_ADDRESS, else no metrics)",
    )
    run.set_defaults(command=_run)

    apply = commands.add_parser(
        "apply",
        help="converge once and exit",
        description=(
            "Make the runtime match the Orchfile once: pull or import images, create, start, "
            "restart and remove what differs, in REQUIRES/AFTER order; failed services are "
            "retried. Through `reconciler run` when one holds the project. With --wait, "
            "also wait until every service runs and is healthy (oneshots completed), and "
            "stop waiting as soon as a service is stuck. Exit 0 when converged, 1 when "
            "not (each unsettled service is named with its state and reason)."
        ),
    )
    _runtime_options(apply)
    apply.add_argument("--wait", action="store_true", help="wait until healthy and completed")
    apply.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only errors, and one line naming what did not converge",
    )
    apply.add_argument(
        "--timeout", default=DEFAULT_APPLY_TIMEOUT, help="give up after this long (e.g. 90s, 5m)"
    )
    apply.set_defaults(command=_apply)

    restart = commands.add_parser(
        "restart",
        help="recreate services now",
        description=(
            "Recreate the named services now, resetting their start limit (a `failed` "
            "service is retried), and wait until they run again. Through `reconciler run` "
            "when one holds the project. Exit 0 when they are all running (healthy, or "
            "completed for oneshots), 1 otherwise."
        ),
    )
    restart.add_argument("services", nargs="+", metavar="SERVICE")
    _runtime_options(restart)
    restart.add_argument(
        "--timeout", default=DEFAULT_RESTART_TIMEOUT, help="give up after this long"
    )
    restart.set_defaults(command=_restart)

    down = commands.add_parser(
        "down",
        help="stop and delete everything of the project",
        description=(
            "Stop every service of the project (dependents first; SIGTERM, TIMEOUT_STOP, "
            "SIGKILL) and delete its tasks, containers, snapshots and leases. When a "
            "`reconciler run` holds the project, it does this and exits, so nothing comes "
            "back. Exit 0 when nothing is left, 1 otherwise."
        ),
    )
    _runtime_options(down)
    down.add_argument(
        "--timeout",
        help="grace before SIGKILL for every service, instead of each one's TIMEOUT_STOP",
    )
    down.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    down.set_defaults(command=_down)


def _runtime_options(parser: argparse.ArgumentParser) -> None:
    options.desired_state_options(parser, positional=False)
    options.project_options(parser)


def duration(flag: str, text: str) -> timedelta:
    from reconciler.model.units import UnitError, parse_duration

    try:
        return parse_duration(text)
    except UnitError as problem:
        raise UsageError(f"{flag} '{text}' {problem}") from None


def _run(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from reconciler.app import operations

    project = options.project(args)
    result = asyncio.run(operations.run_project(project, metrics=_metrics_address(args)))
    if result is None:
        return EXIT_OK
    return _report_down(result, out)


def _metrics_address(args: argparse.Namespace) -> ListenAddress | None:
    """`--metrics-address`, else `$RECONCILER_METRICS_ADDRESS`; None (no metrics) when
    neither is given or the variable is empty."""
    from reconciler.app.metrics.address import parse_listen_address

    if args.metrics_address is not None:
        return parse_listen_address(args.metrics_address, source="--metrics-address")
    if text := os.environ.get(METRICS_VARIABLE, ""):
        return parse_listen_address(text, source=METRICS_VARIABLE)
    return None


def _apply(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from reconciler.app import operations

    project = options.project(args)
    limit = duration("--timeout", args.timeout)
    if args.quiet:
        _only_errors()

    async def apply() -> ApplyResult:
        with contextlib.ExitStack() as stack:
            progress = None
            if not args.quiet and output_for(sys.stderr, os.environ).escapes:
                from reconciler.cli.progress import PullProgress  # rich's bars: a terminal only

                progress = stack.enter_context(PullProgress())
            return await operations.apply_project(
                project, wait=args.wait, limit=limit, on_progress=progress
            )

    result = asyncio.run(apply())
    return _report_outcome(result, out, limit=limit, one_line=args.quiet)


def _restart(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from reconciler.app import operations

    project = options.project(args)
    limit = duration("--timeout", args.timeout)
    result = asyncio.run(operations.restart_services(project, list(args.services), limit=limit))
    return _report_outcome(result, out, limit=limit)


def _only_errors() -> None:
    """`--quiet`: the log says only what failed (actions, saves), not what went well."""
    logging.getLogger("reconciler").setLevel(logging.ERROR)


def _report_outcome(
    result: ApplyResult, out: TextIO, *, limit: timedelta, one_line: bool = False
) -> int:
    from reconciler.model.status import Outlook
    from reconciler.report import status_view

    if result.report.runtime_error is not None and not result.ok:
        raise RuntimeUnavailable(result.report.runtime_error)
    if result.ok:
        return EXIT_OK
    unsettled = [s for s in result.report.services if s.outlook is not Outlook.SETTLED]
    why = f" within {limit.total_seconds():g}s" if result.timed_out else ""
    lines = [status_view.unsettled_line(status) for status in unsettled]
    if one_line:
        print(f"not converged{why}" + (f": {'; '.join(lines)}" if lines else ""), file=out)
        return EXIT_FAILED
    print(f"not converged{why}:", file=out)
    for line in lines:
        print(f"  {line}", file=out)
    return EXIT_FAILED


def _down(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from reconciler.app import operations

    project = options.project(args)
    grace = duration("--timeout", args.timeout) if args.timeout else None
    if args.quiet:
        _only_errors()
    result = asyncio.run(operations.down_project(project, grace=grace))
    return _report_down(result, out)


def _report_down(result: DownResult, out: TextIO) -> int:
    if result.unreachable is not None:
        raise RuntimeUnavailable(result.unreachable)
    for failure in result.failures:
        print(f"error: {failure}", file=out)
    for unit_id in result.left:
        print(f"left: {unit_id}", file=out)
    return EXIT_FAILED if result.failures or result.left else EXIT_OK
