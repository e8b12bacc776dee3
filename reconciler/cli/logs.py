"""`reconciler logs SERVICE`: a service's stdout and stderr, from its log files."""

from __future__ import annotations

import argparse
import signal
from typing import Final, TextIO

from reconciler.cli import options
from reconciler.errors import UsageError

FOLLOW_POLL: Final = 0.2


def add_commands(commands: options.Subparsers[argparse.ArgumentParser]) -> None:
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


def _logs(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from reconciler.app.loading import load_desired
    from reconciler.app.state_dir import open_state_dir
    from reconciler.report import logs as log_files

    project = options.project(args)
    open_state_dir(project.settings, writes=False)
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
