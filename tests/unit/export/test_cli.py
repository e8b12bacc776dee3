"""`reconciler export kubernetes` as a user runs it: output, files, errors, exit codes."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml as pyyaml

from reconciler.cli import main
from tests.unit.export.cluster_checks import KUBERNETES_VERSIONS

REPO = Path(__file__).parents[3]
DEMO = REPO / "manifests" / "demo" / "Orchfile"
DEMO_FLAGS = (
    "-f",
    str(DEMO),
    "--image-map",
    "./images/busybox=registry.example.com/demo/busybox:1.37",
    "--skip-host",
)
WEB = "ARG tag=1\nSERVICE web\n  FROM nginx:${tag}\n  ENV TOKEN=hunter2-value\n  RESTART always\n"
HOST = "SERVICE clock\n  RUN sleep 1000\n"


def test_export_without_a_target_prints_its_help_and_exits_2(capsys):
    assert main(["export"]) == 2
    assert "kubernetes" in capsys.readouterr().err


def test_a_clean_export_prints_manifests_and_nothing_on_stderr(project, export_cli):
    run = export_cli(project(WEB))
    assert (run.code, run.err) == (0, "")
    assert [d["kind"] for d in pyyaml.safe_load_all(run.out)] == ["Secret", "Service", "Deployment"]


def test_an_arg_override_reaches_the_manifests(project, export_cli):
    run = export_cli(project(WEB), "--arg", "tag=2")
    assert "image: nginx:2\n" in run.out


def test_each_warning_is_one_line_naming_file_line_service_and_directive(project, export_cli):
    run = export_cli(project(WEB + "  AFTER db\n"))
    assert run.code == 0
    assert run.err == (
        "Orchfile:6: warning: service 'web': AFTER db: Kubernetes starts pods in no particular "
        "order (only REQUIRES becomes a wait)\n"
    )


def test_an_unmappable_directive_is_one_line_exit_1_and_no_output(project, export_cli):
    run = export_cli(project(WEB + HOST))
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "Orchfile:7: service 'clock': host services have no Kubernetes form "
        "(--skip-host leaves them out)\n"
    )


def test_strict_fails_on_a_warning_and_says_why(project, export_cli):
    run = export_cli(project(WEB + "  AFTER db\n"), "--strict")
    assert (run.code, run.out) == (1, "")
    assert run.err.endswith("(only REQUIRES becomes a wait) (--strict)\n")


def test_an_invalid_orchfile_is_reported_as_validate_reports_it(project, export_cli):
    run = export_cli(project("SERVICE web\n  FROM nginx\n  MEMORY lots\n"))
    assert run.code == 1
    assert run.err.startswith("Orchfile:3: service 'web': MEMORY 'lots'")
    assert "Traceback" not in run.err


def test_a_bad_flag_is_one_error_line(project, export_cli):
    run = export_cli(project(WEB), "--image-map", "nginx")
    assert (run.code, run.err) == (1, "error: --image-map takes LOCAL=REFERENCE, got 'nginx'\n")


def test_json_output_is_one_list_of_the_same_objects(project, export_cli):
    folder = project(WEB)
    as_yaml = list(pyyaml.safe_load_all(export_cli(folder).out))
    as_json = json.loads(export_cli(folder, "-o", "json").out)
    assert as_json == {"apiVersion": "v1", "kind": "List", "items": as_yaml}


def test_out_writes_one_file_per_object_into_a_new_folder(project, export_cli, tmp_path):
    folder = project(WEB)
    run = export_cli(folder, "--out", str(tmp_path / "k8s" / "shop"))
    written = sorted(p.name for p in (tmp_path / "k8s" / "shop").iterdir())
    assert (run.code, run.out) == (0, "")
    assert written == ["web-deployment.yaml", "web-env-secret.yaml", "web-service.yaml"]
    stream = export_cli(folder).out
    files = (tmp_path / "k8s" / "shop" / name for name in written)
    assert sorted(stream.split("---\n")[1:]) == sorted(f.read_text()[4:] for f in files)


def test_out_with_json_writes_json_files(project, export_cli, tmp_path):
    export_cli(project(WEB), "-o", "json", "--out", str(tmp_path / "out"))
    deployment = json.loads((tmp_path / "out" / "web-deployment.json").read_text())
    assert deployment["kind"] == "Deployment"


def test_out_writes_nothing_when_the_export_fails(project, export_cli, tmp_path):
    run = export_cli(project(WEB + HOST), "--out", str(tmp_path / "out"))
    assert run.code == 1
    assert not (tmp_path / "out").exists()


def test_out_onto_a_file_is_one_error_line(project, export_cli, tmp_path):
    (tmp_path / "taken").write_text("")
    run = export_cli(project(WEB), "--out", str(tmp_path / "taken"))
    assert run.code == 1
    assert run.err.startswith(f"error: --out {tmp_path / 'taken'}: ")
    assert run.err.count("\n") == 1


def test_a_missing_env_file_is_one_error_line_naming_the_service(project, export_cli):
    run = export_cli(project(WEB + "  ENV_FILE secrets.env\n"))
    assert run.code == 1
    assert run.err.startswith("error: service 'web': ENV_FILE ")


def test_the_export_needs_no_runtime(project, export_cli, monkeypatch):
    monkeypatch.setenv("CONTAINERD_ADDRESS", "unix:///nonexistent/containerd.sock")
    assert export_cli(project(WEB)).code == 0


def test_the_same_input_gives_the_same_bytes_in_separate_processes():
    outputs = set()
    for seed in ("1", "2"):
        environ = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-m", "reconciler", "export", "kubernetes", *DEMO_FLAGS]
        done = subprocess.run(command, capture_output=True, text=True, env=environ, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_kubernetes_validates_own_command_accepts_the_demo_export(tmp_path):
    manifest = tmp_path / "demo.yaml"
    command = [sys.executable, "-m", "reconciler", "export", "kubernetes", *DEMO_FLAGS]
    manifest.write_text(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    objects = len(list(pyyaml.safe_load_all(manifest.read_text())))
    versions = [arg for v in KUBERNETES_VERSIONS for arg in ("-k", v)]
    validate = [sys.executable, "-m", "kubernetes_validate", "--strict", *versions, str(manifest)]
    done = subprocess.run(validate, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert len(lines) == objects * len(KUBERNETES_VERSIONS)
    assert all(line.startswith("INFO ") and " passed " in line for line in lines)


def test_the_command_module_imports_no_grpc_rich_or_watchdog():
    """Only the light modules, wherever in the module they are imported. (What the whole
    command loads, `reconciler.cli` with it, is `tests/unit/test_lazy_imports.py`'s.)"""
    source = (REPO / "reconciler" / "cli" / "export.py").read_text()
    imported = sorted(
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__"
    )
    imported = [m for m in imported if m != "reconciler.cli"]
    heavy = {"grpc", "rich", "watchdog", "ctdpb"}
    probe = (
        f"import importlib, sys\nfor m in {imported!r}: importlib.import_module(m)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy!r}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
