"""Running `reconciler export kubernetes` in process, as a user would, from a folder.

The environment is pinned (no ORCH_ARG_ overrides, a fixed state dir) so that an export
depends only on the files and flags a test gives it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main


@dataclass(frozen=True, kw_only=True)
class Run:
    code: int
    out: str
    err: str


ExportCli = Callable[..., Run]


@pytest.fixture
def export_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> ExportCli:
    """export_cli(folder, *args) -> Run: `reconciler export kubernetes ARGS` in `folder`."""
    for name in list(os.environ):
        if name.startswith(("ORCH_", "RECONCILER_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RECONCILER_STATE_DIR", "/var/lib/reconciler")

    def run(folder: Path, *args: str) -> Run:
        monkeypatch.chdir(folder)
        capsys.readouterr()
        code = main(["export", "kubernetes", *args])
        out, err = capsys.readouterr()
        return Run(code=code, out=out, err=err)

    return run


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """project(Orchfile text, files={name: text}) -> the folder `shop` holding them (so
    the project is `shop`)."""

    def write(orchfile: str, files: dict[str, str] | None = None) -> Path:
        folder = tmp_path / "shop"
        folder.mkdir(exist_ok=True)
        (folder / "Orchfile").write_text(orchfile, encoding="utf-8")
        for name, text in (files or {}).items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder

    return write
