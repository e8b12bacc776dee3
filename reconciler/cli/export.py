"""`export kubernetes`: the stack as Kubernetes manifests, with no runtime involved.

Loads the files as `validate` does, keeping the Orch document so that each finding can
name its file and line, reads the exported services' ENV_FILEs, maps, and prints the
manifests on stdout (or writes one file per object under `--out`). Warnings go to
stderr, one line each, `FILE:LINE: warning: service 'web': ...`; when there is an error
(with `--strict`, any warning is one) every problem is one `FILE:LINE: ...` line, nothing
is printed or written, and the exit code is 1. Imports only the light modules: the
language, the model, `app.loading` and `reconciler.export`, and those when the command
runs; building the parser takes `export.options` alone.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reconciler.cli import options
from reconciler.errors import Diagnostic, Location, NotExportable, UsageError
from reconciler.export.options import (
    DEFAULT_VOLUME_SIZE,
    DEFAULT_WAIT_IMAGE,
    ExportOptions,
    Exposure,
    check_namespace,
    check_reference,
    check_storage_class,
    parse_image_mapping,
    parse_volume_size,
)

if TYPE_CHECKING:
    from reconciler.export.findings import Finding
    from reconciler.export.output import ManifestFile
    from reconciler.orchfile.document import Document


def add_commands(commands: options.Subparsers[argparse.ArgumentParser]) -> None:
    export = commands.add_parser(
        "export",
        help="the stack as another system's manifests (kubernetes)",
        description="Print the stack in another system's form. Targets: kubernetes.",
    )
    export.set_defaults(command=lambda args, out: _no_target(export))
    targets = export.add_subparsers(title="targets", metavar="TARGET")
    kubernetes = targets.add_parser(
        "kubernetes",
        help="Kubernetes manifests for the same stack",
        description=(
            "Print Kubernetes manifests for the stack: a Deployment (or, for a ONESHOT, a "
            "Job) per container service, Services, Secrets for ENV and ENV_FILE, claims for "
            "named volumes, probes, resources. Needs no runtime. What each directive "
            "becomes is in docs/kubernetes.md. Each directive mapped with a loss is a "
            "warning on stderr; exit 0 when done, 1 when a directive cannot be mapped "
            "(with --strict: when anything was lost)."
        ),
    )
    options.desired_state_options(kubernetes)
    kubernetes.add_argument(
        "--project", help="project name (default: the first file's folder name, sanitized)"
    )
    kubernetes.add_argument(
        "-o", "--output", choices=("yaml", "json"), default="yaml", help="output format"
    )
    kubernetes.add_argument(
        "--out", metavar="DIR", help="write one file per object into DIR instead of stdout"
    )
    kubernetes.add_argument(
        "--namespace", metavar="NS", help="the Kubernetes namespace of every object"
    )
    kubernetes.add_argument(
        "--image-map",
        action="append",
        default=[],
        metavar="LOCAL=REF",
        help="pull the image FROM names as LOCAL (a local path or a reference) as REF "
        "(repeatable; needed for every local image)",
    )
    kubernetes.add_argument(
        "--expose",
        choices=[e.value for e in Exposure],
        default=Exposure.CLUSTER_IP.value,
        help="the type of the Services made from PUBLISH (default: clusterip)",
    )
    kubernetes.add_argument(
        "--volume-size",
        action="append",
        default=[],
        metavar="[NAME=]SIZE",
        help=f"size of the claims of named volumes, or of the volume NAME (repeatable; "
        f"default {DEFAULT_VOLUME_SIZE})",
    )
    kubernetes.add_argument("--storage-class", metavar="NAME", help="storage class of every claim")
    kubernetes.add_argument(
        "--allow-host-path",
        action="store_true",
        help="map bind mounts to hostPath volumes (a path on whichever node runs the pod)",
    )
    kubernetes.add_argument(
        "--skip-host", action="store_true", help="leave out host services (RUN) instead of failing"
    )
    kubernetes.add_argument(
        "--wait-image",
        default=DEFAULT_WAIT_IMAGE,
        metavar="REF",
        help=f"image of the init containers that wait for REQUIRES (default "
        f"{DEFAULT_WAIT_IMAGE}; its nc needs -z)",
    )
    kubernetes.add_argument(
        "--strict",
        action="store_true",
        help="fail on any warning (any directive mapped with a loss)",
    )
    kubernetes.set_defaults(command=_kubernetes)


def _no_target(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _kubernetes(args: argparse.Namespace, out: TextIO) -> int:
    from reconciler.app.loading import ProjectOptions, project_context
    from reconciler.export.envfiles import read_exported_env_files
    from reconciler.export.output import OutputFormat, manifest_files, render
    from reconciler.export.stack import export_stack
    from reconciler.model.desired import ServiceMode
    from reconciler.orchfile.loader import load
    from reconciler.orchfile.semantic import desired_stack
    from reconciler.settings import resolve_settings

    chosen = _export_options(args)
    output = OutputFormat(args.output)
    # `--namespace` is Kubernetes' here, not containerd's: the settings stay the defaults.
    settings = resolve_settings(namespace=None, state_dir=None, address=None, environ=os.environ)
    project = ProjectOptions(
        files=options.files(args),
        cli_args=options.cli_args(args),
        project=args.project,
        settings=settings,
    )
    document = load(project.files, project.cli_args, os.environ)
    stack = desired_stack(document, project_context(project))
    exported = [s for s in stack.services if s.mode is ServiceMode.CONTAINER]
    result = export_stack(stack, env_files=read_exported_env_files(exported), options=chosen)
    problems = result.problems(strict=args.strict)
    findings = sorted(result.findings, key=lambda f: _position(f, document, project.files))
    for finding in findings:
        if finding not in problems:
            print(_warning(finding, document), file=sys.stderr)
    if problems:
        raise NotExportable([_problem(f, document) for f in findings if f in problems])
    if args.out is None:
        out.write(render(result.objects, output))
    else:
        _write(Path(args.out), manifest_files(result.objects, output))
    return 0


def _export_options(args: argparse.Namespace) -> ExportOptions:
    cwd = Path.cwd()
    sizes: dict[str, str] = {}
    default_size = DEFAULT_VOLUME_SIZE
    for text in args.volume_size:
        name, size = parse_volume_size(text)
        if name is None:
            default_size = size
        else:
            sizes[name] = size
    return ExportOptions(
        namespace=None if args.namespace is None else check_namespace(args.namespace),
        exposure=Exposure(args.expose),
        image_map=tuple(parse_image_mapping(text, cwd) for text in args.image_map),
        volume_size=default_size,
        volume_sizes=sizes,
        storage_class=None
        if args.storage_class is None
        else check_storage_class(args.storage_class),
        allow_host_path=args.allow_host_path,
        skip_host=args.skip_host,
        wait_image=check_reference("--wait-image", args.wait_image),
    )


def _location(finding: Finding, document: Document) -> Location | None:
    if finding.service is None or finding.directive is None:
        return None
    service = document.service(finding.service)
    return None if service is None else service.location(finding.directive.value, finding.index)


def _position(finding: Finding, document: Document, files: Sequence[str]) -> tuple[int, int]:
    """Findings in file order: by file (as given), then line; those of no line last."""
    at = _location(finding, document)
    if at is None:
        return (len(files), 0)
    return (files.index(at.file) if at.file in files else len(files), at.line)


def _problem(finding: Finding, document: Document) -> Diagnostic:
    from reconciler.export.findings import Severity

    strict = " (--strict)" if finding.severity is Severity.WARNING else ""
    return Diagnostic(location=_location(finding, document), message=finding.describe() + strict)


def _warning(finding: Finding, document: Document) -> str:
    at = _location(finding, document)
    text = f"warning: {finding.describe()}"
    return f"{at}: {text}" if at else text


def _write(folder: Path, files: Sequence[ManifestFile]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for manifest in files:
            (folder / manifest.name).write_text(manifest.text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--out {folder}: {error.strerror or error}") from error
