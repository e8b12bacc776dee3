"""`reconciler logs [SERVICE...]`: services' stdout and stderr, from their log files."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, TextIO

from reconciler.cli import options
from reconciler.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from reconciler.logfiles.keeper import LogKeeper
    from reconciler.logfiles.streams import Lines
    from reconciler.model.desired import DesiredService, DesiredStack

FOLLOW_POLL: Final = 0.2


def add_commands(commands: options.Subparsers[argparse.ArgumentParser]) -> None:
    logs = commands.add_parser(
        "logs",
        help="services' stdout and stderr",
        description=(
            "Print the services' log files (STDOUT and STDERR, or the files under the "
            "state dir by default), rotated files included, oldest first; with no SERVICE, "
            "every service's, merged by time, each line after its service's name. "
            "--tail N prints the last N lines of each file; --since DUR those written in "
            "the last DUR; -t puts the time each line was written first (UTC; to about a "
            "second while `run` or a host service's supervisor keeps the log: "
            "docs/logs.md); -f keeps printing lines as they are written, across "
            "rotations, until interrupted."
        ),
    )
    logs.add_argument("services", nargs="*", metavar="SERVICE")
    options.desired_state_options(logs, positional=False, short_file=False)
    options.project_options(logs)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument("--tail", type=int, metavar="N", help="only the last N lines of each file")
    logs.add_argument(
        "--since", metavar="DUR", help="only lines written in the last DUR (e.g. 90s, 10m, 2h)"
    )
    logs.add_argument(
        "-t", "--timestamps", action="store_true", help="show when each line was written"
    )
    logs.set_defaults(command=_logs)


def _chosen(desired: DesiredStack, names: list[str]) -> list[DesiredService]:
    if not names:
        return list(desired.services)
    chosen = []
    for name in dict.fromkeys(names):
        service = desired.service(name)
        if service is None:
            known = ", ".join(s.name for s in desired.services) or "none"
            raise UsageError(f"no service '{name}' in the Orchfile (services: {known})")
        chosen.append(service)
    return chosen


def _since_ns(text: str | None) -> int | None:
    if text is None:
        return None
    import time

    from reconciler.model.units import UnitError, parse_duration

    try:
        window = parse_duration(text)
    except UnitError as problem:
        raise UsageError(f"--since '{text}' {problem}") from None
    return time.time_ns() - int(window.total_seconds() * 1e9)


def _logs(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from reconciler.app.loading import load_desired
    from reconciler.app.state_dir import open_state_dir
    from reconciler.logfiles.streams import Gap, LogSet, follow
    from reconciler.report import logs as view

    if args.tail is not None and args.tail < 0:
        raise UsageError(f"--tail {args.tail}: a number of lines is 0 or more")
    project = options.project(args)
    open_state_dir(project.settings, writes=False)
    desired = load_desired(project)
    services = _chosen(desired, list(args.services))
    since_ns = _since_ns(args.since)
    width = view.prefix_width(s.name for s in services)
    logs = LogSet([(s.name, [s.stdout, s.stderr]) for s in services], dated=bool(args.timestamps))

    def emit(runs: list[Lines]) -> None:
        rendered = list(_rendered(runs, width=width, timestamps=bool(args.timestamps)))
        if rendered:
            out.write("\n".join(rendered) + "\n")
            out.flush()

    def gap(found: Gap) -> None:
        print(view.gap_notice(found.label, found.size), file=sys.stderr)

    logs.position(tail=args.tail, since_ns=since_ns)
    for run in logs.history(flush=not args.follow):
        emit([run])
    if not args.follow:
        logs.close()
        return 0
    keep = _keeping(desired, services)

    async def following() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await follow(logs, emit, stop=stop, poll_interval=FOLLOW_POLL, on_gap=gap, between=keep)

    asyncio.run(following())
    return 0


def _rendered(runs: list[Lines], *, width: int, timestamps: bool) -> Iterator[str]:
    from reconciler.report.logs import render_line

    for run in runs:
        if not width and not timestamps:
            yield from run.texts  # the common case, kept cheap: 100k lines a second
            continue
        times: list[int | None] = list(run.times) if timestamps else [None] * len(run.texts)
        for text, at in zip(run.texts, times, strict=True):
            yield render_line(text, name=run.label, width=width, at_ns=at)


def _keeping(desired: DesiredStack, services: list[DesiredService]) -> _Keeping:
    """While it follows, `logs -f` keeps the containers' logs within their limits too
    (a host service's supervisor keeps its own): the shim cannot, and `run` may not be
    there. Where it may not write them, it only reads."""
    from reconciler.logfiles.keeper import LogKeeper
    from reconciler.logfiles.policy import PolicyReader, policy_path
    from reconciler.model.desired import ServiceMode

    policy = PolicyReader(policy_path(desired.paths.state_dir))
    paths = [s.stdout for s in services if s.mode is ServiceMode.CONTAINER]
    return _Keeping(LogKeeper(policy.current), paths)


class _Keeping:
    """A keeper's rounds, each when the last one said the next is due."""

    def __init__(self, keeper: LogKeeper, paths: list[Path]) -> None:
        import time

        self._keeper = keeper
        self._paths = paths
        self._clock = time.monotonic
        self._next = 0.0

    def __call__(self) -> None:
        now = self._clock()
        if not self._paths or now < self._next:
            return
        delay = self._keeper.round(self._paths)
        self._next = now + delay
