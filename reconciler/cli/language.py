"""`render` and `validate`: the desired state, without touching any runtime."""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from reconciler.cli import options


def add_commands(commands: options.Subparsers[argparse.ArgumentParser]) -> None:
    render = commands.add_parser(
        "render",
        help="print the resolved desired state",
        description=(
            "Merge the files, expand ARGs and print the resolved desired state: JSON exactly "
            "as the reference `orch parse` prints it, or the same model as YAML. "
            "Exit 0 when valid, 1 with one `FILE:LINE: message` line per error."
        ),
    )
    options.desired_state_options(render)
    render.add_argument(
        "-o", "--output", choices=("json", "yaml"), default="json", help="output format"
    )
    render.set_defaults(command=_render)

    validate = commands.add_parser(
        "validate",
        help="check Orchfiles",
        description=(
            "Check the files as `render` would, and also every value the runtime will "
            "interpret (durations, sizes, CPUS, paths, names), and print nothing but "
            "errors, one `FILE:LINE: message` line each. Exit 0 when valid, 1 otherwise."
        ),
    )
    options.desired_state_options(validate)
    options.project_options(validate, runtime=False)
    validate.set_defaults(command=_validate)


def _render(args: argparse.Namespace, out: TextIO) -> int:
    from reconciler.orchfile.loader import load
    from reconciler.orchfile.render import to_json
    from reconciler.orchfile.yaml_form import to_yaml

    document = load(options.files(args), options.cli_args(args), os.environ)
    text = to_json(document) + "\n" if args.output == "json" else to_yaml(document)
    out.write(text)
    return 0


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    from reconciler.app.loading import load_desired

    load_desired(options.project(args))
    return 0
