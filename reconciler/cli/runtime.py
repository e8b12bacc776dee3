"""The commands that talk to containerd: apply, plan, status, down."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Final, TextIO

from rich.console import Console

from reconciler.app.loading import ProjectOptions, load_desired, project_context
from reconciler.app.lock import ProjectLock
from reconciler.app.project import open_engine
from reconciler.app.runner import Runner
from reconciler.app.status import invalid_orchfile_report, status_report
from reconciler.cli import options
from reconciler.cli.progress import PullProgress
from reconciler.controllers.actions import describe, is_mutation
from reconciler.errors import InvalidOrchfile, RuntimeUnavailable, UsageError
from reconciler.model.desired import DesiredStack
from reconciler.model.observed import Observed, Unreachable
from reconciler.model.status import StatusReport
from reconciler.model.units import UnitError, parse_duration
from reconciler.report import logs as log_files
from reconciler.report import status_view

DEFAULT_APPLY_TIMEOUT: Final = "10m"
PIPE_WIDTH: Final = 200
FOLLOW_POLL: Final = 0.2
WATCH_INTERVAL: Final = 2.0
EXIT_PLAN_CHANGES: Final = 2
EXIT_NOT_CONVERGED: Final = 3


def add_commands(commands: options.Subparsers[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run",
        help="converge, then keep converging (watch the Orchfile)",
        description=(
            "Converge, then keep containerd matching the Orchfile: on every save of the "
            "Orchfile, an overlay or an ENV_FILE, on every containerd event (a task "
            "exited, a container was deleted), when a restart's backoff is due, and every "
            "30 seconds. An invalid save is reported and the last good state stays in "
            "force. SIGINT or SIGTERM stop the reconciler and leave the services running "
            "(exit 0). Starts the embedded containerd when no other answers."
        ),
    )
    _runtime_options(run)
    run.set_defaults(command=_run)

    apply = commands.add_parser(
        "apply",
        help="converge once and exit",
        description=(
            "Make containerd match the Orchfile once: pull or import images, create, "
            "start, restart and remove what differs, starting services in REQUIRES/AFTER "
            "order. With --wait, also wait until every service runs and is healthy "
            "(oneshots completed). Exit 0 when converged, 1 when something failed or the "
            "timeout passed."
        ),
    )
    _runtime_options(apply)
    apply.add_argument("--wait", action="store_true", help="wait until healthy and completed")
    apply.add_argument(
        "--timeout", default=DEFAULT_APPLY_TIMEOUT, help="give up after this long (e.g. 90s, 5m)"
    )
    apply.set_defaults(command=_apply)

    plan = commands.add_parser(
        "plan",
        help="print the actions apply would take",
        description=(
            "Print the actions `apply` would take now, each with its cause, and change "
            "nothing. Exit 0 when there is nothing to do, 2 when changes are pending."
        ),
    )
    _runtime_options(plan)
    plan.set_defaults(command=_plan)

    status = commands.add_parser(
        "status",
        help="desired against actual, per service",
        description=(
            "Show each service's desired and actual state, health, restarts, drift and "
            "the reason for anything unsettled, plus leaks. Exit 0 when converged, 3 when "
            "not, 1 on error."
        ),
    )
    _runtime_options(status)
    status.add_argument(
        "-o", "--output", choices=("table", "wide", "json", "yaml"), default="table"
    )
    status.add_argument(
        "--watch", action="store_true", help="redraw every 2 seconds until interrupted"
    )
    status.set_defaults(command=_status)

    logs = commands.add_parser(
        "logs",
        help="a service's stdout and stderr",
        description=(
            "Print the service's log files (STDOUT and STDERR, or the files under the "
            "state dir by default); --tail N prints the last N lines of each; -f keeps "
            "printing lines as they are written, across rotation, until interrupted."
        ),
    )
    logs.add_argument("service", metavar="SERVICE")
    options.desired_state_options(logs, positional=False, short_file=False)
    options.project_options(logs)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument("--tail", type=int, metavar="N", help="only the last N lines of each file")
    logs.set_defaults(command=_logs)

    down = commands.add_parser(
        "down",
        help="stop and delete everything of the project",
        description=(
            "Stop every service of the project (dependents first; SIGTERM, TIMEOUT_STOP, "
            "SIGKILL) and delete its tasks, containers, snapshots and leases. Exit 0 when "
            "nothing is left, 1 otherwise."
        ),
    )
    _runtime_options(down)
    down.add_argument(
        "--timeout",
        help="grace before SIGKILL for every service, instead of each one's TIMEOUT_STOP",
    )
    down.set_defaults(command=_down)


def _runtime_options(parser: argparse.ArgumentParser) -> None:
    options.desired_state_options(parser, positional=False)
    options.project_options(parser)


def _timeout(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except UnitError as problem:
        raise UsageError(f"--timeout '{text}' {problem}") from None


def _lock(desired: DesiredStack, project: ProjectOptions) -> ProjectLock:
    return ProjectLock(
        state_dir=project.settings.state_dir,
        namespace=desired.namespace,
        project=desired.project,
    )


def _run(args: argparse.Namespace, out: TextIO) -> int:
    project = options.project(args)
    desired = load_desired(project)

    async def run() -> int:
        async with open_engine(desired, project.settings, start_embedded=True) as engine:
            await Runner(engine, lambda: load_desired(project)).run()
        return 0

    with _lock(desired, project):
        return asyncio.run(run())


def _apply(args: argparse.Namespace, out: TextIO) -> int:
    project = options.project(args)
    desired = load_desired(project)
    limit = _timeout(args.timeout)

    async def run() -> int:
        with contextlib.ExitStack() as stack:
            progress = stack.enter_context(PullProgress()) if sys.stderr.isatty() else None
            async with open_engine(
                desired, project.settings, start_embedded=True, on_progress=progress
            ) as engine:
                result = await engine.apply(wait=args.wait, limit=limit)
        if result.unreachable:
            raise RuntimeUnavailable(result.unreachable)
        assert result.plan is not None
        failed = [s for s in result.plan.statuses if s.state.value == "failed"]
        for status in failed:
            print(f"error: service '{status.name}' failed: {status.reason}", file=out)
        if result.errors or failed:
            return 1
        if args.wait and not result.plan.converged:
            unsettled = [s for s in result.plan.statuses if s.state.value != "running"]
            for status in unsettled:
                print(f"not converged: {status.name}: {status.state.value}", file=out)
            return 1
        return 0

    with _lock(desired, project):
        return asyncio.run(run())


def _plan(args: argparse.Namespace, out: TextIO) -> int:
    project = options.project(args)
    desired = load_desired(project)

    async def run() -> int:
        async with open_engine(desired, project.settings) as engine:
            result, _ = await engine.plan_only(fetch=False)
        if result.unreachable:
            raise RuntimeUnavailable(result.unreachable)
        assert result.plan is not None
        changes = [a for a in result.plan.actions if is_mutation(a)]
        for action in changes:
            print(describe(action), file=out)
        waiting = [
            s
            for s in result.plan.statuses
            if (s.drift is not None and s.state.value == "blocked") or s.state.value == "backoff"
        ]
        for status in waiting:
            why = status.drift.value if status.drift else status.state.value
            print(f"pending {status.name}: {why}, {status.reason}", file=out)
        if not changes and not waiting:
            print("no changes", file=out)
            return 0
        return EXIT_PLAN_CHANGES

    return asyncio.run(run())


def _status(args: argparse.Namespace, out: TextIO) -> int:
    project = options.project(args)
    try:
        desired = load_desired(project)
    except InvalidOrchfile as invalid:
        report = asyncio.run(_invalid_status(project, invalid))
    else:
        if args.watch:
            return asyncio.run(_watch_status(desired, project, args.output, out))

        async def run() -> StatusReport:
            async with open_engine(desired, project.settings) as engine:
                result, observed = await engine.plan_only(fetch=False)
            return status_report(desired, result, observed, files=project.files)

        report = asyncio.run(run())
    out.write(render_status(report, args.output, terminal=out.isatty()))
    if report.runtime_error:
        return 1
    return 0 if report.converged else EXIT_NOT_CONVERGED


async def _watch_status(
    desired: DesiredStack, project: ProjectOptions, output: str, out: TextIO
) -> int:
    """Redraw the status until SIGINT or SIGTERM; health is probed by this process."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    terminal = out.isatty()
    async with open_engine(desired, project.settings) as engine:
        while not stop.is_set():
            result, observed = await engine.plan_only(fetch=False)
            report = status_report(desired, result, observed, files=project.files)
            out.write(
                ("\x1b[H\x1b[2J" if terminal else "")
                + render_status(report, output, terminal=terminal)
            )
            out.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCH_INTERVAL)
    return 0


async def _invalid_status(project: ProjectOptions, invalid: InvalidOrchfile) -> StatusReport:
    """What runs, when the files do not parse: observed with an empty desired state."""
    context = project_context(project)
    empty = DesiredStack(
        project=context.project,
        namespace=context.namespace,
        files=context.files,
        paths=context.paths,
    )
    async with open_engine(empty, project.settings) as engine:
        observed = await engine.observe()
    seen = observed if isinstance(observed, Observed) else None
    return invalid_orchfile_report(
        project=context.project,
        namespace=context.namespace,
        observed=seen,
        files=project.files,
        error=str(invalid.diagnostics[0]) if invalid.diagnostics else str(invalid),
        runtime_error=observed.reason if isinstance(observed, Unreachable) else None,
    )


def render_status(report: StatusReport, output: str, *, terminal: bool = False) -> str:
    """The report as PRODUCT.md's JSON, as YAML, or as a table (`wide` adds columns);
    colours only on a terminal, and rows never wrapped in a pipe."""
    if output == "json":
        return status_view.render_json(report)
    if output == "yaml":
        return status_view.render_yaml(report)
    console = Console(
        file=io.StringIO(),
        force_terminal=terminal,
        no_color=not terminal,
        width=None if terminal else PIPE_WIDTH,
    )
    console.print(status_view.status_table(report, now=datetime.now(UTC), wide=output == "wide"))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return str(text)


def _down(args: argparse.Namespace, out: TextIO) -> int:
    project = options.project(args)
    desired = load_desired(project)
    grace = _timeout(args.timeout) if args.timeout else None

    async def run() -> int:
        async with open_engine(desired, project.settings) as engine:
            errors = await engine.down(grace=grace)
            after = await engine.observe()
        for error in errors:
            print(f"error: {error}", file=out)
        if isinstance(after, Unreachable):
            raise RuntimeUnavailable(after.reason)
        left = [u.id for u in after.units if u.project == desired.project]
        for unit_id in left:
            print(f"left: {unit_id}", file=out)
        return 1 if errors or left else 0

    return asyncio.run(run())


def _logs(args: argparse.Namespace, out: TextIO) -> int:
    project = options.project(args)
    desired = load_desired(project)
    service = desired.service(args.service)
    if service is None:
        names = ", ".join(s.name for s in desired.services) or "none"
        raise UsageError(f"no service '{args.service}' in the Orchfile (services: {names})")
    paths = [service.stdout, service.stderr]
    if not args.follow:
        lines = (
            log_files.tail(paths, args.tail)
            if args.tail is not None
            else list(log_files.read_all(paths))
        )
        for line in lines:
            out.write(line if line.endswith("\n") else line + "\n")
        return 0

    async def follow() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        def emit(line: str) -> None:
            out.write(line if line.endswith("\n") else line + "\n")
            out.flush()

        await log_files.follow(
            paths,
            emit,
            stop=stop,
            poll_interval=FOLLOW_POLL,
            backlog=args.tail if args.tail is not None else None,
        )

    asyncio.run(follow())
    return 0
