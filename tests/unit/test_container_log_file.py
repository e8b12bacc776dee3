"""The file a container's shim appends to is made before the shim opens it: 0600, never
through a link, and without changing a folder that is not the reconciler's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.drivers.containerd.task_control import _make_log_file
from reconciler.errors import UnsafePath


def test_a_shared_folder_an_orchfile_names_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)

    _make_log_file(shared / "web.log")

    assert shared.stat().st_mode & 0o7777 == 0o1777
    assert (shared / "web.log").stat().st_mode & 0o777 == 0o600


def test_missing_folders_are_made_private(tmp_path: Path) -> None:
    _make_log_file(tmp_path / "logs" / "deep" / "web.log")

    assert (tmp_path / "logs").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "logs" / "deep" / "web.log").stat().st_mode & 0o777 == 0o600


def test_an_existing_log_is_made_private_and_kept(tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    log.write_text("earlier\n")
    log.chmod(0o644)

    _make_log_file(log)

    assert log.stat().st_mode & 0o777 == 0o600
    assert log.read_text() == "earlier\n"


def test_a_link_planted_for_the_log_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("")
    (tmp_path / "web.log").symlink_to(target)

    with pytest.raises(UnsafePath, match="symbolic link"):
        _make_log_file(tmp_path / "web.log")


def test_a_device_is_left_as_it_is() -> None:
    _make_log_file(Path(os.devnull))

    assert Path(os.devnull).stat().st_mode & 0o666 == 0o666
