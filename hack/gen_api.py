"""Regenerate the gRPC stubs in ``api/``: containerd's (``api/ctdpb``) from pinned
``.proto`` files, and the reconciler's own control API (``api/reconciler_api``).

Why this exists: the project talks to containerd 1.6 over its v1 gRPC API, and the stubs
must be reproducible from the exact protos Debian ships with containerd (and cgroups, for
``Tasks.Metrics``). Installing the project never runs protoc: the output is committed and
``hack/check-api`` fails when it drifts from what this script produces.

Steps (docs/containerd.md, "Stubs"):

1. ``--refresh`` copies the original protos from the Debian packages into ``api/protos/``
   (untouched text, so anyone can diff them against upstream).
2. A line filter strips the gogoproto and fieldpath options (they only steer Go code
   generation, none changes the wire format) and rewrites the Go import root
   ``github.com/containerd/...`` to the private ``ctdpb/`` root, so the modules are
   ``ctdpb.api.services.tasks.v1.tasks_pb2`` rather than a top-level ``github`` package.
3. grpcio-tools (the version pinned in pyproject.toml, which fixes the generated code)
   writes ``_pb2.py``, ``_pb2.pyi`` and ``_pb2_grpc.py``; every directory gets an
   ``__init__.py``. ``google/rpc/status.proto`` resolves from googleapis-common-protos,
   which also provides its module at run time.
4. ``api/reconciler_api/control.proto`` (ours, written by hand) is compiled in place:
   ``reconciler_api/control_pb2.py`` and friends beside it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "api" / "protos"
PACKAGE = "ctdpb"
CONTROL_PACKAGE = "reconciler_api"
CONTROL_PROTO = f"{CONTROL_PACKAGE}/control.proto"
GOCODE = Path("/usr/share/gocode/src/github.com/containerd")

# (directory under GOCODE, directory under api/protos, Go import prefix, ctdpb prefix)
SOURCES = (
    ("containerd", "containerd", "github.com/containerd/containerd/", f"{PACKAGE}/"),
    ("cgroups", "cgroups", "github.com/containerd/cgroups/", f"{PACKAGE}/cgroups/"),
)

# Paths relative to the GOCODE source directories; globs are expanded and sorted.
PROTO_GLOBS = (
    "containerd/api/types/*.proto",
    "containerd/api/types/task/task.proto",
    "containerd/api/services/*/v1/*.proto",
    "containerd/api/events/*.proto",
    "containerd/runtime/v2/runc/options/oci.proto",
    "cgroups/stats/v1/metrics.proto",
)

_DROP_LINE = re.compile(
    r"""^\s*(
        import\s+(weak\s+)?"(gogoproto/gogo|github\.com/containerd/containerd/protobuf/plugin/fieldpath)\.proto";
      | option\s+\((gogoproto|containerd\.plugin)\.[A-Za-z_]+\)\s*=.*;
    )\s*$""",
    re.VERBOSE,
)
_GOGO_FIELD_OPTIONS = re.compile(r"\s*\[\s*\(gogoproto\.[^\]]*\]")


def _pinned_grpcio_tools() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for requirement in pyproject["project"]["optional-dependencies"]["test"]:
        name, sep, version = requirement.partition("==")
        if name.strip() == "grpcio-tools" and sep:
            return str(version.strip())
    raise SystemExit("pyproject.toml must pin grpcio-tools with '==' for reproducible stubs")


def refresh_protos(protos: Path) -> None:
    """Replace ``protos`` with the original files from the Debian packages."""
    if not GOCODE.is_dir():
        raise SystemExit(
            f"{GOCODE} is missing: apt-get install golang-github-containerd-containerd-dev "
            "golang-github-containerd-cgroups-dev"
        )
    shutil.rmtree(protos, ignore_errors=True)
    for pattern in PROTO_GLOBS:
        matches = sorted(GOCODE.glob(pattern))
        if not matches:
            raise SystemExit(f"no proto matches {GOCODE / pattern}")
        for source in matches:
            target = protos / source.relative_to(GOCODE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def _rewrite(text: str) -> str:
    lines = []
    for original in text.splitlines():
        if _DROP_LINE.match(original):
            continue
        line = _GOGO_FIELD_OPTIONS.sub("", original)
        for _, _, go_prefix, py_prefix in SOURCES:
            line = line.replace(f'"{go_prefix}', f'"{py_prefix}')
        if "gogoproto" in line or "containerd.plugin" in line:
            raise SystemExit(f"unhandled Go-only option, extend the filter: {line.strip()}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _staged_protos(protos: Path, stage: Path) -> list[str]:
    """Write filtered copies of ``protos`` under stage/ctdpb/...; return their paths."""
    staged = []
    for source in sorted(protos.rglob("*.proto")):
        relative = source.relative_to(protos)
        for protos_dir, _, go_prefix, py_prefix in SOURCES:
            if relative.parts[0] == protos_dir:
                go_path = go_prefix + str(relative.relative_to(protos_dir))
                py_path = go_path.replace(go_prefix, py_prefix, 1)
                break
        else:
            raise SystemExit(f"{source} is not under a known source directory")
        target = stage / py_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_rewrite(source.read_text()))
        staged.append(py_path)
    return staged


def generate(protos: Path, out: Path) -> None:
    """Generate the ctdpb package into out/ctdpb from ``protos``."""
    pinned = _pinned_grpcio_tools()
    installed = importlib.metadata.version("grpcio-tools")
    if installed != pinned:
        raise SystemExit(f"grpcio-tools {installed} installed, pyproject pins {pinned}")
    googleapis = importlib.metadata.distribution("googleapis-common-protos")
    site_packages = Path(str(googleapis.locate_file("")))
    well_known = Path(protoc.__file__).parent / "_proto"

    package = out / PACKAGE
    shutil.rmtree(package, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gen-api-") as tmp:
        stage = Path(tmp)
        staged = _staged_protos(protos, stage)
        status = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{stage}",
                f"-I{well_known}",
                f"-I{site_packages}",
                f"--python_out={out}",
                f"--pyi_out={out}",
                f"--grpc_python_out={out}",
                *staged,
            ]
        )
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")
    for directory in sorted({package, *(p for p in package.rglob("*") if p.is_dir())}):
        (directory / "__init__.py").touch()


def generate_control(out: Path) -> None:
    """Compile our control API's proto into out/reconciler_api."""
    well_known = Path(protoc.__file__).parent / "_proto"
    package = out / CONTROL_PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    for stale in package.glob("control_pb2*"):
        stale.unlink()
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{ROOT / 'api'}",
            f"-I{well_known}",
            f"--python_out={out}",
            f"--pyi_out={out}",
            f"--grpc_python_out={out}",
            CONTROL_PROTO,
        ]
    )
    if status != 0:
        raise SystemExit(f"protoc failed on {CONTROL_PROTO} with status {status}")
    (package / "__init__.py").touch()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="first copy the protos from the Debian packages into --protos",
    )
    parser.add_argument(
        "--protos", type=Path, default=PROTOS, help="the pinned protos (default api/protos)"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "api", help="where the ctdpb package goes"
    )
    args = parser.parse_args(argv)
    if args.refresh:
        refresh_protos(args.protos.resolve())
    generate(args.protos.resolve(), args.out.resolve())
    generate_control(args.out.resolve())


if __name__ == "__main__":
    main(sys.argv[1:])
