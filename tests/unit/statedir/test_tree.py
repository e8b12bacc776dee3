"""Directories and files under the state dir: made private, reached without a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconciler.errors import UnsafePath
from reconciler.statedir.files import write_atomically
from reconciler.statedir.tree import check_dirs, make_dirs, open_directory, open_private_file

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_missing_directories_are_made_0700_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        make_dirs(tmp_path / "state" / "a" / "b", below=tmp_path / "state")
    finally:
        os.umask(previous)

    assert [mode_of(tmp_path / "state" / p) for p in ("a", "a/b")] == [0o700, 0o700]


def test_existing_directories_looser_than_0700_are_tightened(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a").chmod(0o755)
    (tmp_path / "a" / "b").chmod(0o711)

    make_dirs(tmp_path / "a" / "b", below=tmp_path)

    assert (mode_of(tmp_path / "a"), mode_of(tmp_path / "a" / "b")) == (0o700, 0o700)


def test_a_link_on_the_way_is_refused_naming_it_and_its_target(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "a").symlink_to(elsewhere)

    with pytest.raises(
        UnsafePath, match=rf"^{tmp_path}/state/a is a symbolic link \(to {elsewhere}"
    ):
        make_dirs(tmp_path / "state" / "a" / "b", below=tmp_path / "state")
    assert list(elsewhere.iterdir()) == []


def test_a_file_on_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("")

    with pytest.raises(UnsafePath, match=rf"{tmp_path}/a is not a directory"):
        make_dirs(tmp_path / "a" / "b", below=tmp_path)


@needs_root
def test_a_directory_another_user_owns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    os.chown(tmp_path / "a", NOBODY, NOBODY)

    with pytest.raises(UnsafePath, match=rf"{tmp_path}/a belongs to uid {NOBODY}"):
        make_dirs(tmp_path / "a" / "b", below=tmp_path)
    assert not (tmp_path / "a" / "b").exists()


def test_checking_makes_nothing_and_accepts_what_is_missing(tmp_path: Path) -> None:
    check_dirs(tmp_path / "a" / "b", below=tmp_path)
    assert not (tmp_path / "a").exists()

    (tmp_path / "a").symlink_to(tmp_path)
    with pytest.raises(UnsafePath, match="is a symbolic link"):
        check_dirs(tmp_path / "a" / "b", below=tmp_path)


def test_a_private_file_is_made_0600_and_an_existing_one_tightened(tmp_path: Path) -> None:
    (tmp_path / "old").write_text("")
    (tmp_path / "old").chmod(0o644)
    directory = open_directory(tmp_path, below=tmp_path)
    try:
        for name in ("new", "old"):
            os.close(open_private_file(directory, name, tmp_path / name, os.O_RDWR))
    finally:
        os.close(directory)

    assert (mode_of(tmp_path / "new"), mode_of(tmp_path / "old")) == (0o600, 0o600)


def test_a_private_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lock").symlink_to("/etc/passwd")
    directory = open_directory(tmp_path, below=tmp_path)
    try:
        with pytest.raises(UnsafePath, match=r"lock is a symbolic link \(to /etc/passwd\)"):
            open_private_file(directory, "lock", tmp_path / "lock", os.O_RDWR)
    finally:
        os.close(directory)


def test_an_atomic_write_is_0600_and_replaces_a_link_rather_than_following_it(
    tmp_path: Path,
) -> None:
    target = tmp_path / "target"
    target.write_text("theirs")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "record.json").symlink_to(target)

    write_atomically(tmp_path / "dir" / "record.json", b"ours")

    assert target.read_text() == "theirs"
    assert (tmp_path / "dir" / "record.json").read_text() == "ours"
    assert mode_of(tmp_path / "dir" / "record.json") == 0o600
