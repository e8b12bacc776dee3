"""The `leak-check` command: what a stopped or deleted stack left behind, for CI."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Final, TextIO

from reconciler.cli import options
from reconciler.errors import InvalidOrchfile, UsageError

if TYPE_CHECKING:
    from reconciler.app.loading import ProjectOptions
    from reconciler.model.desired import DesiredStack

OUTPUTS: Final = ("text", "json", "junit")


def add_commands(commands: options.Subparsers[argparse.ArgumentParser]) -> None:
    leak_check = commands.add_parser(
        "leak-check",
        help="report what a stopped or deleted stack left behind",
        description=(
            "Report, class by class, what the project left in containerd and on the host that no "
            "service of the Orchfile accounts for: tasks, containers, active snapshots, leases, "
            "shims, rootfs mounts, cgroups, network namespaces, veths, IPAM allocations, port "
            "mappings (iptables nat rules), bridges, host-service processes, and named volumes "
            "and log files of services no longer in the Orchfile (reported, never deleted). Only "
            "what the product should have removed counts: log files of a service no longer "
            "desired are leaks (removing a service, or `down`, removes its logs), but named "
            "volumes that `down` kept (without --volumes) are listed as kept, not leaked, "
            "unless --strict. Only objects carrying the reconciler's labels, known by a "
            "container id of the project, or of the project's own network are ever reported. "
            "When the Orchfile is missing or invalid, no service is desired and everything of "
            "the project (named by --project or the folder of -f) counts as leaked: the check "
            "to run in CI after `down`. Exit 0 no leaks (kept data listed), 1 leaks, 2 a class "
            "could not be checked."
        ),
    )
    options.desired_state_options(leak_check, positional=False)
    options.project_options(leak_check)
    leak_check.add_argument(
        "--settle",
        default="0s",
        metavar="DUR",
        help="wait up to DUR (e.g. 10s) for teardowns in progress, re-checking on each "
        "containerd event; returns as soon as nothing is left",
    )
    leak_check.add_argument(
        "-o",
        "--output",
        choices=OUTPUTS,
        default="text",
        help="output format",
    )
    leak_check.add_argument(
        "--all-projects",
        action="store_true",
        help="check every project of the namespace (projects not in this Orchfile have no "
        "desired services)",
    )
    leak_check.add_argument(
        "--strict",
        action="store_true",
        help="count what `down` kept on purpose (named volumes) as leaked too",
    )
    leak_check.set_defaults(command=_leak_check)


def _settle(text: str) -> timedelta:
    from reconciler.model.units import UnitError, parse_duration

    try:
        return parse_duration(text)
    except UnitError as problem:
        raise UsageError(f"--settle '{text}' {problem}") from None


def _desired(project: ProjectOptions) -> DesiredStack:
    """The Orchfile's desired state, or none at all when it is missing or invalid."""
    from reconciler.app.loading import load_desired, project_context
    from reconciler.model.desired import DesiredStack

    try:
        return load_desired(project)
    except InvalidOrchfile as invalid:
        context = project_context(project)
        first = invalid.diagnostics[0] if invalid.diagnostics else invalid
        print(f"note: {first}; checking with no desired services", file=sys.stderr)
        return DesiredStack(
            project=context.project,
            namespace=context.namespace,
            files=context.files,
            paths=context.paths,
        )


def _leak_check(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from reconciler.app.leak_check import leak_check
    from reconciler.app.state_dir import open_state_dir
    from reconciler.controllers.leaks import Scope
    from reconciler.report.leak_view import exit_code, render_json, render_junit, render_text

    renderers = {"text": render_text, "json": render_json, "junit": render_junit}
    project = options.project(args)
    open_state_dir(project.settings, writes=False)
    settle = _settle(args.settle)
    desired = _desired(project)
    scope = Scope(
        namespace=desired.namespace,
        desired=desired,
        all_projects=args.all_projects,
        strict=args.strict,
    )

    report = asyncio.run(leak_check(scope, project.settings, settle=settle))
    out.write(renderers[args.output](report))
    return exit_code(report)
