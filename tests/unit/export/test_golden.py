"""Golden files: every directive's mapping, the demo stack and a 50-service stack.

Each variant of each case in `golden/` (see `golden/README.md`) is exported in process
and compared byte for byte with its stored stdout and stderr. The same exports are then
held to what a cluster needs: the Kubernetes schemas of the two newest versions
kubernetes-validate ships (strict) and the API server's rules; YAML that ruamel.yaml
reads back and writes again unchanged, and that a YAML 1.1 reader (kubectl's kind)
reads as the same objects as the JSON output; and no ENV or ENV_FILE value anywhere but
in a Secret's data.

`RECONCILER_UPDATE_GOLDEN=1` (what `hack/update-export-goldens` sets) rewrites the
stored files from the current output instead of comparing.
"""

from __future__ import annotations

import io
import json
import os
import shlex
from pathlib import Path
from typing import Any, Final

import pytest
import yaml as pyyaml
from ruamel.yaml import YAML

from reconciler.app.loading import ProjectOptions, read_desired
from reconciler.cli import build_parser, options
from reconciler.export.envfiles import read_exported_env_files
from reconciler.settings import resolve_settings
from tests.unit.export import fifty_services
from tests.unit.export.cluster_checks import assert_cluster_accepts
from tests.unit.export.conftest import ExportCli, Run

GOLDEN: Final = Path(__file__).parent / "golden"
UPDATE: Final = os.environ.get("RECONCILER_UPDATE_GOLDEN") == "1"
SHORTEST_SEARCHED_VALUE: Final = 6


def _variants() -> list[Any]:
    return [
        pytest.param(case, args.stem, id=f"{case.name}/{args.stem}")
        for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir())
        for args in sorted(case.glob("*.args"))
    ]


VARIANTS: Final = _variants()
# The variants whose stored result is a success: those print manifests to check.
SUCCESSES: Final = [
    v
    for v in VARIANTS
    if (v.values[0] / f"{v.values[1]}.stderr").read_text().startswith("exit 0\n")
]


def _args(case: Path, variant: str) -> list[str]:
    lines = (case / f"{variant}.args").read_text().splitlines()
    return [word for line in lines if not line.startswith("#") for word in shlex.split(line)]


def _stdout_file(case: Path, variant: str, args: list[str]) -> Path:
    suffix = "json" if "json" in args else "yaml"
    return case / f"{variant}.{suffix}"


def _export(export_cli: ExportCli, case: Path, variant: str) -> Run:
    return export_cli(case, *_args(case, variant))


def _documents(run: Run) -> list[dict[str, Any]]:
    return [doc for doc in YAML(typ="safe").load_all(run.out) if doc is not None]


@pytest.mark.parametrize(("case", "variant"), VARIANTS)
def test_the_export_prints_its_golden_output(export_cli, case, variant):
    args = _args(case, variant)
    run = export_cli(case, *args)
    stdout_file, stderr_file = _stdout_file(case, variant, args), case / f"{variant}.stderr"
    # ENV_FILE errors name the file's absolute path: stored relative to the case folder.
    stderr = f"exit {run.code}\n{run.err}".replace(f"{case}/", "")
    if UPDATE:
        if run.out:
            stdout_file.write_text(run.out)
        else:
            stdout_file.unlink(missing_ok=True)
        stderr_file.write_text(stderr)
    assert stderr == stderr_file.read_text()
    assert run.out == (stdout_file.read_text() if stdout_file.exists() else "")


@pytest.mark.parametrize(("case", "variant"), SUCCESSES)
def test_every_successful_export_is_accepted_by_the_kubernetes_schemas_and_rules(
    export_cli, case, variant
):
    run = _export(export_cli, case, variant)
    assert run.code == 0
    objects = json.loads(run.out)["items"] if "json" in _args(case, variant) else _documents(run)
    assert objects
    assert_cluster_accepts(objects)


@pytest.mark.parametrize(("case", "variant"), SUCCESSES)
def test_the_yaml_round_trips_through_ruamel_and_reads_the_same_in_yaml_1_1(
    export_cli, case, variant
):
    args = [a for a in _args(case, variant) if a not in ("-o", "json")]
    run = export_cli(case, *args)
    assert run.code == 0
    reader = YAML(typ="rt")
    reader.preserve_quotes = True
    documents = list(reader.load_all(run.out))
    writer = YAML(typ="rt")
    writer.explicit_start = True
    writer.width = 4096
    writer.indent(mapping=2, sequence=4, offset=2)
    again = io.StringIO()
    writer.dump_all(documents, again)
    assert again.getvalue() == run.out
    as_json = json.loads(export_cli(case, *args, "-o", "json").out)["items"]
    assert list(pyyaml.safe_load_all(run.out)) == as_json
    assert _documents(run) == as_json


@pytest.mark.parametrize(("case", "variant"), SUCCESSES)
def test_no_env_value_appears_outside_a_secrets_data(export_cli, case, variant):
    args = _args(case, variant)
    run = export_cli(case, *args)
    assert run.code == 0
    values = _env_values(case, args)
    objects = json.loads(run.out)["items"] if "json" in args else _documents(run)
    for obj in objects:
        visible = {**obj, "data": None} if obj["kind"] == "Secret" else obj
        text = json.dumps(visible)
        leaked = [v for v in values if v in text]
        assert not leaked, f"{obj['kind']}/{obj['metadata']['name']} shows ENV values"


def test_the_fifty_service_stack_is_what_its_generator_makes():
    folder = GOLDEN / "fifty-services"
    expected = {
        "Orchfile": fifty_services.orchfile_text(),
        fifty_services.ENV_FILE_NAME: fifty_services.ENV_FILE_TEXT,
    }
    for name, text in expected.items():
        if UPDATE:
            (folder / name).write_text(text)
        assert (folder / name).read_text() == text


def test_the_fifty_service_stack_has_fifty_services_and_an_object_for_each(export_cli):
    run = _export(export_cli, GOLDEN / "fifty-services", "default")
    workloads = [d for d in _documents(run) if d["kind"] in ("Deployment", "Job")]
    assert run.code == 0
    assert len(workloads) == 50


def test_the_golden_cases_cover_every_kind_an_export_makes(export_cli):
    kinds = set()
    for param in SUCCESSES:
        case, variant = param.values
        if "json" not in _args(case, variant):
            kinds.update(d["kind"] for d in _documents(_export(export_cli, case, variant)))
    assert kinds == {"Secret", "PersistentVolumeClaim", "Service", "Deployment", "Job"}


def _env_values(case: Path, args: list[str]) -> list[str]:
    """Every ENV and ENV_FILE value the exported services have, long enough to search."""
    parsed = build_parser().parse_args(["export", "kubernetes", *args])
    files = [str(case / f) for f in options.files(parsed)]
    stack = read_desired(
        ProjectOptions(
            files=files,
            cli_args=options.cli_args(parsed),
            project=parsed.project,
            settings=resolve_settings(namespace=None, state_dir=None, address=None, environ={}),
        )
    )
    values = [v.reveal() for s in stack.services for v in s.env.values()]
    for env_files in read_exported_env_files(stack.services).values():
        values.extend(v.reveal() for content in env_files for v in content.values())
    return [v for v in values if len(v) >= SHORTEST_SEARCHED_VALUE]
