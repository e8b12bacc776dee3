"""A state dir another user could change is refused, in one line, before it is used."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconciler.errors import UnsafePath
from reconciler.statedir.check import check_state_dir

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_missing_state_dir_is_made_0700_by_a_writer(tmp_path: Path) -> None:
    state = tmp_path / "state"

    check_state_dir(state, default=False, create=True)

    assert mode_of(state) == 0o700


def test_a_reader_makes_nothing(tmp_path: Path) -> None:
    check_state_dir(tmp_path / "state", default=False, create=False)

    assert not (tmp_path / "state").exists()


def test_a_state_dir_others_can_read_is_tightened_by_a_writer_only(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)

    check_state_dir(state, default=False, create=False)
    assert mode_of(state) == 0o755
    check_state_dir(state, default=False, create=True)
    assert mode_of(state) == 0o700


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o1777])
def test_a_state_dir_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(mode)

    with pytest.raises(UnsafePath, match=rf"^state dir {state} is writable by others"):
        check_state_dir(state, default=False, create=True)
    assert mode_of(state) == mode


@needs_root
def test_a_state_dir_another_user_owns_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chown(state, NOBODY, NOBODY)

    with pytest.raises(UnsafePath, match=rf"{state} belongs to uid {NOBODY}.*not to you"):
        check_state_dir(state, default=False, create=True)


def test_a_file_in_place_of_the_state_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("")

    with pytest.raises(UnsafePath, match="is not a directory"):
        check_state_dir(tmp_path / "state", default=False, create=True)


def test_the_default_state_dir_is_refused_below_a_directory_others_can_write(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o775)
    state = shared / "reconciler"

    with pytest.raises(UnsafePath, match=rf"state dir {state}: {shared} is writable by its group"):
        check_state_dir(state, default=True, create=True)
    assert not state.exists()
    # A state dir the user chose is theirs to vouch for, above itself.
    check_state_dir(state, default=False, create=True)
    assert mode_of(state) == 0o700


@needs_root
def test_a_state_dir_reached_through_a_link_another_user_owns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real")
    os.lchown(link, NOBODY, NOBODY)

    with pytest.raises(UnsafePath, match=rf"{link} is a symbolic link owned by uid {NOBODY}"):
        check_state_dir(link / "state", default=False, create=True)
    assert not (tmp_path / "real" / "state").exists()


def test_a_state_dir_reached_through_our_own_link_is_used(tmp_path: Path) -> None:
    (tmp_path / "disk").mkdir()
    (tmp_path / "state").symlink_to(tmp_path / "disk")

    check_state_dir(tmp_path / "state", default=True, create=True)

    assert mode_of(tmp_path / "disk") == 0o700
