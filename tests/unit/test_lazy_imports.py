"""The commands that need no runtime load none of it: a contract on start-up time.

Every command pays Python's import time before it does anything, and gRPC, the
generated containerd stubs, rich, watchdog, tenacity, httpx and the engine are most of it.
`--version`, `--help`, `completion`, `render`, `validate` and `export` need none of them
(nor prometheus-client, which only `run --metrics-address` loads), so `reconciler.cli`
builds every parser from light modules and each command imports what it does only when
it runs. Each case runs the command in a fresh interpreter, through
`reconciler.cli.main`, and lists what it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

REPO: Final = Path(__file__).parents[2]
DEMO: Final = ("-f", "manifests/demo/Orchfile", "--arg", "image=busybox:1.37")
HEAVY: Final = (
    "grpc",
    "google.protobuf",
    "ctdpb",
    "reconciler_api",
    "rich",
    "watchdog",
    "tenacity",
    "prometheus_client",
    "httpx",
    "reconciler.app.engine",
    "reconciler.drivers.containerd",
)
# Run the command with its output swallowed, then print its exit code and every module
# it loaded, as JSON on the real stdout.
PROBE: Final = """\
import contextlib, io, json, sys
from reconciler.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

COMMANDS: Final = {
    "--version": ["--version"],
    "--help": ["--help"],
    "status --help": ["status", "--help"],
    "run --help": ["run", "--help"],
    "completion bash": ["completion", "bash"],
    "completion zsh": ["completion", "zsh"],
    "completion fish": ["completion", "fish"],
    "render": ["render", *DEMO],
    "render -o yaml": ["render", "-o", "yaml", *DEMO],
    "validate": ["validate", *DEMO],
    "export kubernetes": ["export", "kubernetes", "--skip-host", *DEMO],
}


def loaded_by(argv: list[str], state_dir: Path) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=REPO,
        env={**os.environ, "RECONCILER_STATE_DIR": str(state_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    return result["code"], result["modules"]


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY)]


@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_command_that_needs_no_runtime_loads_none_of_it(argv, tmp_path):
    code, modules = loaded_by(argv, tmp_path)
    assert code == 0
    assert heavy(modules) == []


@pytest.mark.parametrize("command", ["render", "validate"])
def test_an_orchfile_in_orch_text_loads_no_yaml_library(command, tmp_path):
    assert not [m for m in loaded_by(COMMANDS[command], tmp_path)[1] if m.startswith("ruamel")]


def test_the_probe_sees_what_a_runtime_command_loads(tmp_path):
    """The same probe on `plan --offline` against no containerd: it loads the driver
    before it finds none, so the contract above is not passing by seeing nothing."""
    address = "unix:///nonexistent/containerd.sock"
    _, modules = loaded_by(["plan", "--offline", "--address", address, *DEMO], tmp_path)
    assert {"grpc", "reconciler.app.engine", "reconciler.drivers.containerd.client"} <= set(modules)


@pytest.mark.parametrize("command", ["plan", "status"])
def test_reading_commands_load_nothing_only_run_or_a_stream_needs(command, tmp_path):
    """`plan` and `status` without a `run` need the engine and the driver, but not run's
    server, watcher and supervisor, containerd's event decoders, the YAML writer, or the
    HTTP client (only a pull or an HTTP health check loads it)."""
    address = "unix:///nonexistent/containerd.sock"
    _, modules = loaded_by([command, "--address", address, *DEMO], tmp_path)
    assert "reconciler.app.engine" in modules
    only_for_others = (
        "watchdog",
        "ruamel",
        "reconciler.app.serve",
        "reconciler.app.control.server",
        "reconciler.app.runner",
        "reconciler.app.watcher",
        "reconciler.app.supervise",
        "reconciler.drivers.containerd.events",
        "reconciler.app.metrics",
        "prometheus_client",
        "httpx",
    )
    assert [m for m in modules if m.startswith(only_for_others)] == []


def test_no_module_of_the_product_needs_the_googleapis_protos() -> None:
    """`googleapis-common-protos` is a dev dependency: only generated code we never run
    (containerd's introspection service) imports `google.rpc`."""
    probe = (
        "import importlib, json, pkgutil, sys, reconciler\n"
        "for module in pkgutil.walk_packages(reconciler.__path__, 'reconciler.'):\n"
        "    if not module.name.endswith('__main__'):\n"
        "        importlib.import_module(module.name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('google.rpc'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []
